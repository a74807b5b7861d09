"""`dataset_card.md`: a Hugging Face dataset card whose YAML header `datasets` reads (configs -> data_files), and a body
with the funnel per stage, emotions, strategies, lengths, teacher, seeds, config hash and the schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from distill.atomic import atomic_write_text
from distill.epitome.provenance import provenance_markdown
from distill.records import DIALOGUE, PREFERENCE_PAIR, SAMPLE_WINDOW, SCHEMA_VERSION
from distill.run_dir import RunDir
from distill.seeds.licenses import UNKNOWN, combine, commercial_status, is_non_commercial
from distill.shards import count_rows, iter_batches
from distill.stats import read_stats

CARD = "dataset_card.md"


def size_category(n: int) -> str:
    for bound, label in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < bound:
            return label
    return "10M<n<100M"


def license_mix(folder: Path) -> list[tuple[str, int]]:
    """(licence expression, rows) over one output folder's `license` column, most rows first."""
    counts: dict[str, int] = {}
    for batch in iter_batches(folder, columns=["license"]):  # counted per batch in Arrow: a 2M-row run stays cheap
        for item in batch.column(0).value_counts().to_pylist():
            key = item["values"] or UNKNOWN
            counts[key] = counts.get(key, 0) + item["counts"]
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def hub_license(mix: list[tuple[str, int]]) -> dict[str, str]:
    """The card header's licence: the one SPDX id in lower case (as the Hub lists them), or `other` naming the mix."""
    if len(mix) == 1 and " AND " not in mix[0][0] and mix[0][0] != UNKNOWN:
        return {"license": mix[0][0].lower()}
    return {"license": "other", "license_name": combine(lic for lic, _ in mix) if mix else UNKNOWN}


def licence_section(mixes: dict[str, list[tuple[str, int]]]) -> str:
    rows = [(name, lic, n, commercial_status(lic)) for name, mix in mixes.items() for lic, n in mix]
    if not rows:
        return "No records yet."
    everything = [lic for mix in mixes.values() for lic, _ in mix]
    if any(is_non_commercial(lic) for lic in everything):
        verdict = (
            "**This data contains records from a non-commercial source.** Rows licensed CC-BY-NC (EmpatheticDialogues, "
            "ESConv "
            "and the like) may not be used to train a model for commercial use; filter on the `license` column, or set "
            "`seeds.allowed_licenses`, to keep only what you may use."
        )
    elif any(UNKNOWN in lic.split(" AND ") for lic in everything):
        verdict = (
            "Some rows come from a source whose licence was not declared (`license: unknown`): declare it on the "
            "seed source."
        )
    else:
        verdict = "No source in this data carries a non-commercial term; the licences below still apply."
    return verdict + "\n\n" + _table(rows, ("records", "licence", "rows", "use"))


def card_header(
    run: RunDir, counts: dict[str, int], languages: list[str], licenses: dict[str, str] | None = None
) -> dict[str, Any]:
    # The curated dialogues are what most users train on, so they are the default config.
    configs = [
        {
            "config_name": name,
            "data_files": [{"split": "train", "path": f"{folder}/*.parquet"}],
            **({"default": True} if name == "dialogues" else {}),
        }
        for name, folder in (("dialogues", "curated"), ("samples", "samples"), ("preferences", "prefs"))
        if counts[name]
    ]
    return {
        "pretty_name": f"Empathetic support dialogues ({run.cfg.run.name})",
        "language": languages or ["en"],
        **(licenses or {"license": "other"}),
        "task_categories": ["text-generation"],
        "tags": ["empathy", "emotional-support", "synthetic", "distillation", "dialogue"],
        "size_categories": [size_category(counts["dialogues"])],
        "configs": configs,
    }


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _counter_rows(counters: dict[str, Any], prefix: str) -> list[tuple[str, Any]]:
    head = prefix + "/"
    items = [(k[len(head) :], v) for k, v in counters.items() if k.startswith(head)]
    return sorted(items, key=lambda kv: (-kv[1], kv[0]))


def _schema_lines(schema: Any) -> str:
    return "\n".join(f"- `{f.name}`: `{f.type}`" for f in schema)


PAIR_METHODS = {
    "cross_dialogue": "the rejected reply is another curated dialogue's, of the opposite emotion",
    "teacher": "the rejected reply is the teacher's, asked to answer as if the seeker felt the opposite emotion",
    "auto": "the rejected reply is another curated dialogue's where one has the opposite emotion, else the teacher's",
}


def pair_methods(method: str, counters: dict[str, Any]) -> str:
    """The configured pair method and how many pairs each way actually made (auto mixes both)."""
    made = ", ".join(f"{n} {m}" for m, n in _counter_rows(counters, "prefs/method")) or "none made"
    return f"method `{method}` ({PAIR_METHODS.get(method, method)}): {made}"


def write_card(run: RunDir, curate_counters: dict[str, Any], empathy_scorer: dict[str, Any] | None = None) -> Path:
    cfg = run.cfg
    counts = {
        "dialogues": count_rows(run.curated),
        "samples": count_rows(run.samples),
        "preferences": count_rows(run.prefs),
    }
    languages = sorted(k for k, _ in _counter_rows(curate_counters, "language") if k != "none")
    mixes = {
        "dialogues": license_mix(run.curated),
        "samples": license_mix(run.samples),
        "preferences": license_mix(run.prefs),
    }
    header = card_header(run, counts, languages, hub_license(mixes["dialogues"]))
    seeds = (read_stats(run.root, "seeds") or {}).get("counters", {})
    generate = (read_stats(run.root, "generate") or {}).get("counters", {})
    funnel = [
        ("seeds loaded", seeds.get("records_kept", "-")),
        ("seeds for generation", seeds.get("for_generation", "-")),
        ("dialogues generated", curate_counters.get("dialogues_in", 0)),
        ("passed heuristic + safety filters", curate_counters.get("passed_filters", 0)),
        ("passed scoring + thresholds", curate_counters.get("passed_thresholds", 0)),
        ("curated (after exact, MinHash and semantic dedup)", counts["dialogues"]),
        ("sample windows", counts["samples"]),
        ("preference pairs", counts["preferences"]),
        *((f"preference pairs: {method}", n) for method, n in _counter_rows(curate_counters, "prefs/method")),
        *((f"dialogues without a pair: {reason}", n) for reason, n in _counter_rows(curate_counters, "prefs/skipped")),
    ]
    dropped = _counter_rows(curate_counters, "dropped")
    turns = sorted(_counter_rows(curate_counters, "turns"), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 10**9)
    teacher = cfg.teacher
    mean_chars = curate_counters.get("chars/supporter", 0) / max(1, curate_counters.get("samples", 0))
    score_means = [
        (name, f"{total / curate_counters[f'score_n/{name}']:.3f}")
        for name, total in _counter_rows(curate_counters, "score_sum")
        if curate_counters.get(f"score_n/{name}")
    ]
    score_means.sort()
    semantic = (
        f"semantic at MiniLM cosine {cfg.curate.semantic_threshold}"
        if cfg.curate.semantic_threshold
        else "no semantic pass"
    )
    pairs_line = pair_methods(cfg.curate.preference_method, curate_counters) if cfg.curate.preference_pairs else "off"
    strategy_rows = _counter_rows(curate_counters, "strategy")
    strategies_table = _table(strategy_rows, ("strategy", "dialogues")) if strategy_rows else "none recorded"
    body = f"""
# {header["pretty_name"]}

Multi-turn emotional-support dialogues written by a teacher LLM from seed dialogues, then filtered (structure, length,
language, AI boilerplate, advice without acknowledgement, repetition, prompt leaks, crisis safety), scored (EPITOME
empathy, strategy coverage, valence shift) and deduplicated globally (exact, MinHash LSH at Jaccard
{cfg.curate.minhash_threshold}, {semantic}).

Synthetic data about emotional distress: it is not clinical advice and must not replace crisis services.

## Load

```python
from datasets import load_dataset
samples = load_dataset("parquet", data_files="{run.samples}/*.parquet", split="train")
pairs = load_dataset("parquet", data_files="{run.prefs}/*.parquet", split="train")
import pyarrow.dataset as ds  # dialogues: their `scores` column is an Arrow map, which `datasets` cannot hold yet
dialogues = ds.dataset("{run.curated}", format="parquet").to_table()
```
Copied to `README.md` in the run folder, this card also works as `load_dataset("<run folder>", "samples")`.

## Lineage

- config hash: `{cfg.stage_hash()}` (curate sections: `{cfg.stage_hash("seeds", "teacher", "generate", "curate")}`)
- teacher: backend `{teacher.backend}`, model `{teacher.model}`, revision `{teacher.revision or "default"}`
- seeds: {", ".join(s.name or s.path or s.hub or "?" for s in cfg.seeds.sources)}
- generation modes: {", ".join(cfg.generate.modes)}; prompt version `{cfg.generate.prompt_version}`
- preference pairs: {pairs_line}
- completion tokens generated: {generate.get("tokens/completion", "-")}
- schema version: {SCHEMA_VERSION}

## Licences

Every row keeps the licence of the seed it was made from (`license`, an SPDX id; `source` names the seed source).

{licence_section(mixes)}

## Funnel

{_table(funnel, ("stage", "count"))}

### Dropped in curation, by filter and reason

{_table(dropped, ("filter/reason", "count")) if dropped else "nothing was dropped"}

## Emotions

{_table(_counter_rows(curate_counters, "emotion"), ("emotion", "dialogues"))}

## Planned strategies

{strategies_table}

## Empathy scorer

{provenance_markdown(empathy_scorer or {})}

## Scores (mean over curated dialogues)

{_table(score_means, ("score", "mean")) if score_means else "no scores"}

## Lengths

Mean supporter reply: {mean_chars:.0f} characters.

{_table(turns, ("turns", "dialogues"))}

## Schema

`dialogues` (curated/):
{_schema_lines(DIALOGUE)}

`samples` (samples/), one per supporter turn:
{_schema_lines(SAMPLE_WINDOW)}

`preferences` (prefs/), EmPO pairs:
{_schema_lines(PREFERENCE_PAIR)}
"""
    text = "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---\n" + body
    path = run.path(CARD)
    atomic_write_text(path, text)
    return path
