"""The seeds stage: every configured source -> `seeds/` (for generation) + `holdout/` (for evaluation) + rejects.

The split (`distill.seeds.holdout`) holds out `holdout_fraction` of each emotion's seeds, chosen by id, so it is the
same
on every rerun and machine whatever the order of the files, and a small run always has one to evaluate. Duplicate ids
(the same record loaded twice) are rejected, not silently merged. With `strict`, any reject fails the
stage with one line naming where the first ones are; nothing is marked done.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from distill.config import RunConfig, SeedsSection
from distill.errors import InputError
from distill.progress import report
from distill.records import REJECT, SEED, make_reject
from distill.run_dir import RunDir
from distill.seeds.emotion_inference import infer_seed_emotions
from distill.seeds.holdout import HoldoutSplit
from distill.seeds.reader import Outcome, iter_source
from distill.seeds.rows import Limits
from distill.shards import ShardWriter
from distill.stages import SEEDS, run_stage
from distill.stats import StageStats

log = logging.getLogger(__name__)


def limits_of(section: SeedsSection) -> Limits:
    return Limits(min_turns=section.min_turns, max_turns=section.max_turns, max_turn_chars=section.max_turn_chars)


def iter_outcomes(section: SeedsSection) -> Iterator[tuple[str, Outcome]]:
    """(source name, outcome) for every source, with duplicate ids and licences outside `allowed_licenses` turned
    into rejects."""
    limits = limits_of(section)
    allowed = None if section.allowed_licenses is None else set(section.allowed_licenses)
    seen: set[str] = set()
    for source in section.sources:
        name = source.name or source.path or source.hub or "?"
        for outcome in iter_source(source, limits):
            seed = outcome.seed
            reject = None
            if seed is not None and allowed is not None and seed["license"] not in allowed:
                detail = (
                    f"source {seed['source']} is licensed {seed['license']}; seeds.allowed_licenses is "
                    f"{sorted(allowed)}"
                )
                reject = make_reject(
                    SEEDS.name,
                    "license_not_allowed",
                    detail,
                    record=seed,
                    source_file=outcome.source_file,
                    source_row=outcome.source_row,
                    field="license",
                )
            elif seed is not None and any(s["id"] in seen for s in outcome.seeds):
                detail = (
                    f"seed id {seed['id']} (source {seed['source']}) was already loaded: the same record appears twice"
                )
                reject = make_reject(
                    SEEDS.name,
                    "duplicate_id",
                    detail,
                    record=seed,
                    source_file=outcome.source_file,
                    source_row=outcome.source_row,
                    field="id",
                )
            elif seed is not None:
                seen.update(s["id"] for s in outcome.seeds)
            if reject is not None:
                outcome = Outcome((), reject, outcome.rows, outcome.source_file, outcome.source_row)
            yield name, outcome


def strict_failure(rejects: list[dict], total: int | None = None) -> InputError:
    total = len(rejects) if total is None else total
    where = "; ".join(
        f"{r['source_file']}:{r['source_row']}{' ' + r['field'] if r['field'] else ''}: {r['reason']} ({r['detail']})"
        for r in rejects[:3]
    )
    more = f" and {total - 3} more" if total > 3 else ""
    return InputError(f"{total} malformed seed record(s) in strict mode: {where}{more}")


def count_outcome(stats: StageStats, source_name: str, outcome: Outcome) -> None:
    stats.add("records_in")
    stats.add("rows_in", outcome.rows)
    if outcome.seeds:
        stats.add("records_kept")
        if len(outcome.seeds) > 1:
            stats.add("records_windowed")
        for seed in outcome.seeds:
            stats.add("seeds_out")
            stats.add(f"source/{seed['source']}")
            stats.add(f"license/{seed['license']}")
            stats.add(f"emotion/{seed['emotion'] or 'none'}")
            stats.add(f"language/{seed['language'] or 'none'}")
            stats.add(f"turns/{sum(m['role'] != 'system' for m in seed['messages'])}")
        # Repairs are per source record (a windowed record's windows share its metadata): counted once.
        for key, value in json.loads(outcome.seeds[0]["metadata"] or "{}").get("repairs", {}).items():
            stats.add(f"repaired/{key}", value)
    else:
        reason = (outcome.reject or {}).get("reason", "unknown")
        stats.add("records_rejected")
        stats.add(f"rejected/{reason}")
        stats.add(f"rejected_from/{source_name}")


REPORT_EVERY = 1000  # records between progress reports (a report per record would cost more than the record)


def load_seeds(cfg: RunConfig, *, strict: bool | None = None, new_run: bool = False) -> StageStats:
    """Run the seeds stage into the run folder (a finished stage is not redone)."""
    return run_stage(SEEDS, cfg, _load_seeds, new_run=new_run, strict=strict)


def _load_seeds(cfg: RunConfig, run: RunDir, *, strict: bool | None) -> StageStats:
    strict = cfg.seeds.strict if strict is None else strict
    stats = StageStats(SEEDS.name)
    # A previous attempt may have died half-way: its shards are not marked done as a stage, so start over.
    for folder in (run.seeds, run.holdout, run.rejects(SEEDS.name)):
        _clear(folder)
    rejects: list[dict] = []
    with (
        ShardWriter(run.seeds, SEED, rows_per_shard=50_000) as seeds_out,
        ShardWriter(run.holdout, SEED, rows_per_shard=50_000) as holdout_out,
        ShardWriter(run.rejects(SEEDS.name), REJECT, rows_per_shard=50_000) as rejects_out,
    ):

        def write(record: tuple[dict[str, Any], ...], held: bool) -> None:
            (holdout_out if held else seeds_out).write(record)

        split = HoldoutSplit(cfg.seeds.holdout_fraction, write, stats)
        for n, (source_name, outcome) in enumerate(iter_outcomes(cfg.seeds), start=1):
            count_outcome(stats, source_name, outcome)
            if n % REPORT_EVERY == 0:
                report(SEEDS.name, n, unit="records", rejected=stats.counters["records_rejected"])
            if outcome.seeds:
                split.add(outcome.seeds)
            else:
                rejects_out.write([outcome.reject])
                if strict and len(rejects) < 100:
                    rejects.append(outcome.reject)
        split.finish()
        report(SEEDS.name, stats.counters["records_in"], unit="records", rejected=stats.counters["records_rejected"])
        if strict and rejects:
            raise strict_failure(rejects, total=stats.counters["records_rejected"])
    if stats.counters["records_kept"] == 0:
        raise InputError("no valid seed records in any source; see " + str(run.rejects(SEEDS.name)))
    stats.info = {
        "sources": [s.model_dump(exclude_none=True) for s in cfg.seeds.sources],
        "holdout_fraction": cfg.seeds.holdout_fraction,
    }
    # On the shards as written, before the marker: a crash in it reruns the stage, and the answers it had are kept.
    infer_seed_emotions(cfg, run, stats)
    log.info(
        "seeds: %d records in, %d kept (%d for generation, %d held out), %d rejected",
        stats.counters["records_in"],
        stats.counters["records_kept"],
        stats.counters["for_generation"],
        stats.counters["holdout"],
        stats.counters["records_rejected"],
    )
    return stats


def _clear(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
