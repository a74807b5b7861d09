"""Valence with VADER: the compound score (-1..1) of a response and its shift from the seeker's last turn.

A supportive reply to a sad message is expected to move valence up a little, not to mirror it or to be
jarringly cheerful; the shift is reported, not judged.
"""

from __future__ import annotations

from distill.text.sentiment import compound


def valence(response: str, seeker_last_turn: str) -> dict[str, float]:
    """`compound` of the response and `shift` = compound(response) - compound(seeker's last turn)."""
    c = compound(response)
    return {"compound": c, "shift": c - compound(seeker_last_turn)}
