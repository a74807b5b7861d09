"""EPITOME levels of a response and diff-EPITOME against the reference response (EmPO, Sotolar et al., 2024).

Levels come from the curation stage's lexical scorer (`distill.scorers.lexicon.epitome_levels`), so evaluation and
curation measure empathy the same way. diff-EPITOME is |level(response) - level(reference)| per mechanism: 0 means
the response expresses each mechanism as strongly as the human reference did; lower is better.
"""

from __future__ import annotations

MECHANISMS = ("er", "ip", "ex")  # emotional reactions, interpretations, explorations


def epitome(response: str, reference: str | None) -> dict[str, float]:
    """`epitome_<m>` levels (0/1/2), and `diff_epitome_<m>` when there is a reference."""
    from distill.scorers.lexicon import epitome_levels

    out = {f"epitome_{m}": float(v) for m, v in zip(MECHANISMS, epitome_levels(response))}
    if reference is not None:
        ref = epitome_levels(reference)
        out.update({f"diff_epitome_{m}": abs(out[f"epitome_{m}"] - r) for m, r in zip(MECHANISMS, ref)})
    return out
