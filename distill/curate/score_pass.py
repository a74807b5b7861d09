"""Curation pass 1, per generated shard: heuristic + safety filters -> scorers -> score thresholds -> scored shard
+ dedup signatures. Every drop is a reject row with its reason; returns the shard's counters."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distill.config import CurateSection, RunConfig
from distill.curate.shard_io import iter_shard_records
from distill.dedup.minhash import lsh_params
from distill.dedup.signatures import signature_schema, signature_table
from distill.filters.base import Filter, apply_filters
from distill.filters.heuristics import (
    AdviceDump,
    Boilerplate,
    Language,
    PromptLeak,
    RepeatedTurns,
    RoleOrder,
    ScoreThreshold,
    Truncated,
    TurnCount,
    TurnLength,
)
from distill.filters.safety import CrisisSafety
from distill.records import DIALOGUE, EMPATHY, REJECT, make_reject, scores_dict
from distill.scorers import Scorer, build_scorers, merge_scores
from distill.scorers.base import ScoreFailure
from distill.shards import ShardInfo, ShardWriter, clear_prefix
from distill.stats import StageStats

if TYPE_CHECKING:
    from distill.teachers.base import Teacher

log = logging.getLogger(__name__)
STAGE = "curate"
SCORE_BATCH = 256  # records per scorer call: amortizes the judge / classifier batches, bounds memory


def build_filters(section: CurateSection) -> list[Filter]:
    """Cheap structural checks first, so the language model and regex-heavy checks see fewer records."""
    filters: list[Filter] = [
        RoleOrder(),
        TurnCount(section.min_turns, section.max_turns),
        TurnLength(section.min_chars_per_turn, section.max_chars_per_turn),
        Truncated(),
        PromptLeak(),
        Boilerplate(),
        RepeatedTurns(),
        AdviceDump(section.max_advice_without_ack),
    ]
    if section.safety:
        filters.append(CrisisSafety())
    if section.languages is None or section.languages:  # None: follow each dialogue's seed language
        filters.append(Language(section.languages))
    return filters


def build_thresholds(section: CurateSection) -> list[Filter]:
    thresholds: dict[str, float] = dict(section.min_scores)
    if section.min_empathy > 0:
        thresholds[EMPATHY] = section.min_empathy
    return [ScoreThreshold(name, minimum) for name, minimum in sorted(thresholds.items())]


def _chunks(records: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def close_scorers(scorers: list[Scorer]) -> None:
    for scorer in scorers:
        close = getattr(scorer, "close", None)
        if close is not None:
            close()


def run_scorers(
    records: list[dict[str, Any]], scorers: list[Scorer], stats: StageStats, rejects: ShardWriter
) -> list[dict[str, Any]]:
    """Score a batch, merging each scorer's scores into its records; a record a scorer could not score is rejected
    with the scorer's reason."""
    alive = records
    for scorer in scorers:
        results = scorer.score(alive)
        survivors = []
        for record, result in zip(alive, results, strict=True):
            if not isinstance(result, ScoreFailure):
                merge_scores(record, result)
                stats.add(f"scored/{scorer.name}")
                survivors.append(record)
                continue
            reason, detail = result
            stats.add(f"dropped/score_{scorer.name}/{reason}")
            rejects.write([make_reject(STAGE, reason, f"[score_{scorer.name}] {detail}", record=record)])
        alive = survivors
    return alive


def build_counted_scorers(cfg: RunConfig, judge_teacher: Teacher | None = None) -> tuple[list[Scorer], int]:
    """`build_scorers`, and how many teachers that built here: what long-lived judge actors exist to keep at zero."""
    from distill.teachers import teacher_builds

    before = teacher_builds()
    scorers = build_scorers(cfg, judge_teacher=judge_teacher)
    return scorers, teacher_builds() - before


def score_shard(
    info: ShardInfo,
    cfg: RunConfig,
    work: Path,
    rejects_dir: Path,
    scorers: list[Scorer] | None = None,
    judge_teacher: Teacher | None = None,
) -> dict[str, Any]:
    """Filter, score and sign one generated shard into `work/scored` and `work/signatures`; returns its counters.
    Without `scorers` it builds them (the judge on `judge_teacher` when given), counts the teachers that took, and
    closes them after the shard."""
    stats = StageStats(STAGE)
    if scorers is not None:
        return _score(info, cfg, work, rejects_dir, scorers, stats)
    built, loads = build_counted_scorers(cfg, judge_teacher)
    if loads:  # a judge teacher built for this shard alone
        stats.add("judge/engine_loads", loads)
    try:
        return _score(info, cfg, work, rejects_dir, built, stats)
    finally:
        close_scorers(built)


def _score(
    info: ShardInfo, cfg: RunConfig, work: Path, rejects_dir: Path, scorers: list[Scorer], stats: StageStats
) -> dict[str, Any]:
    section = cfg.curate
    prefix = info.path.stem
    scored_dir, sig_dir = work / "scored", work / "signatures"
    for folder, pfx in ((scored_dir, prefix), (sig_dir, prefix), (rejects_dir, f"{prefix}-filter")):
        clear_prefix(folder, pfx)
    filters, thresholds = build_filters(section), build_thresholds(section)
    bands, _ = lsh_params(section.minhash_threshold, section.minhash_num_perm)

    def records() -> Iterator[dict[str, Any]]:
        for _, record in iter_shard_records(info):
            stats.add("dialogues_in")
            record["scores"] = scores_dict(record.get("scores"))  # shards hold [{name, value}] rows
            yield record

    with (
        ShardWriter(scored_dir, DIALOGUE, prefix=prefix, rows_per_shard=section.rows_per_shard) as scored_out,
        ShardWriter(sig_dir, signature_schema(bands), prefix=prefix, rows_per_shard=section.rows_per_shard) as sig_out,
        ShardWriter(
            rejects_dir, REJECT, prefix=f"{prefix}-filter", rows_per_shard=section.rows_per_shard
        ) as rejects_out,
    ):
        passed = apply_filters(
            records(), filters, stats, lambda r: rejects_out.write([r]), stage=STAGE, kept_key="passed_filters"
        )
        for chunk in _chunks(passed, SCORE_BATCH):
            scored = run_scorers(chunk, scorers, stats, rejects_out)
            kept = list(
                apply_filters(
                    scored,
                    thresholds,
                    stats,
                    lambda r: rejects_out.write([r]),
                    stage=STAGE,
                    kept_key="passed_thresholds",
                )
            )
            if kept:
                scored_out.write(kept)
                sig_out.write_table(
                    signature_table(
                        kept,
                        threshold=section.minhash_threshold,
                        num_perm=section.minhash_num_perm,
                        shingle_words=section.shingle_words,
                    )
                )
    log.info(
        "curate: %s -> %d of %d passed filters and scoring",
        info.path.name,
        stats.counters["passed_thresholds"],
        stats.counters["dialogues_in"],
    )
    return stats.to_dict()
