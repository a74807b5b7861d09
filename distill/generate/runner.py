"""The generate stage: seeds -> plan -> unit batches through teacher actors -> `generated/` shards, exactly once.

The driver streams the plan and keeps at most `max_in_flight_per_actor` batches per actor outstanding (backpressure:
memory is bounded by the batches in flight, not by the size of the run). Each finished batch is written as its own
shards and then marked done; a rerun skips marked batches and rewrites any batch that died half-way under the same
deterministic names, so no unit is ever written twice.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from distill.atomic import atomic_write_json
from distill.config import RunConfig
from distill.errors import InputError
from distill.generate.plan import PLAN, UnitBatch, iter_batches, iter_plan
from distill.generate.pool import make_pool
from distill.generate.resume import done_batches, mark_batch, plan_marker
from distill.generate.synthesize import BatchOutcome
from distill.progress import report
from distill.records import DIALOGUE, REJECT
from distill.run_dir import RunDir
from distill.shards import ShardWriter, clear_prefix, iter_rows
from distill.stages import GENERATE, run_stage
from distill.stats import StageStats
from distill.teachers import teacher_id

log = logging.getLogger(__name__)

_ONE_SHARD = 1 << 40  # a unit batch is always exactly one shard per folder


def planned_batches(cfg: RunConfig, seeds: Path) -> Iterator[UnitBatch | dict[str, Any]]:
    return iter_batches(
        iter_plan(iter_rows(seeds), cfg.generate, teacher_id(cfg.teacher)), cfg.generate.units_per_shard
    )


def ensure_plan(run: RunDir, cfg: RunConfig, seeds: Path) -> dict[str, Any]:
    """Write `plan/` (unit ids per batch) and the seeds no mode can use, once; returns the plan's totals. A plan
    without a unit is the user's input error (every seed unusable by the configured modes)."""
    plan = _plan_once(run, cfg, seeds)
    if not plan.get("units"):
        raise InputError(
            f"{seeds}: no seed suits the modes {list(cfg.generate.modes)}; the reasons are in "
            f"{run.rejects(GENERATE.name)}"
        )
    return plan


def _plan_once(run: RunDir, cfg: RunConfig, seeds: Path) -> dict[str, Any]:
    marker = plan_marker(run.plan)
    if marker.exists():
        return json.loads(marker.read_text())
    shutil.rmtree(run.plan, ignore_errors=True)
    clear_prefix(run.rejects(GENERATE.name), "plan")
    counts: Counter[str] = Counter()
    with (
        ShardWriter(run.plan, PLAN, prefix="plan", rows_per_shard=1_000_000) as plan_out,
        ShardWriter(run.rejects(GENERATE.name), REJECT, prefix="plan", rows_per_shard=1_000_000) as rejects_out,
    ):
        for item in planned_batches(cfg, seeds):
            if isinstance(item, dict):
                rejects_out.write([item])
                counts[f"rejected/{item['reason']}"] += 1
                counts["seeds_rejected"] += 1
                continue
            plan_out.write(u.plan_row(item.index) for u in item.units)
            counts["batches"] += 1
            counts["units"] += len(item.units)
            for u in item.units:
                counts[f"units/{u.mode}"] += 1
    summary = {"teacher_id": teacher_id(cfg.teacher), **counts}
    atomic_write_json(marker, summary)
    log.info(
        "planned %d units in %d batches (%d seeds usable by no mode)",
        counts["units"],
        counts["batches"],
        counts["seeds_rejected"],
    )
    return summary


def write_batch(run: RunDir, batch: UnitBatch, outcome: BatchOutcome) -> None:
    if outcome.rejects:
        with ShardWriter(run.rejects(GENERATE.name), REJECT, prefix=batch.name, rows_per_shard=_ONE_SHARD) as out:
            out.write(outcome.rejects)
    if outcome.dialogues:
        with ShardWriter(run.generated, DIALOGUE, prefix=batch.name, rows_per_shard=_ONE_SHARD) as out:
            out.write(outcome.dialogues)
    # Last: the marker is what makes the batch done.
    mark_batch(
        run.generated, batch.name, {"batch": batch.index, "units": len(batch.units), "counters": dict(outcome.counters)}
    )


def run_generate(cfg: RunConfig, *, new_run: bool = False) -> StageStats:
    """Run (or resume) the generate stage of `cfg`'s run folder; returns the stage's stats (also in
    stats/generate.json)."""
    return run_stage(GENERATE, cfg, _generate, new_run=new_run)


def _generate(cfg: RunConfig, run: RunDir) -> StageStats:
    seeds = run.seeds
    plan = ensure_plan(run, cfg, seeds)
    finished = done_batches(run.generated)
    units_done = sum(m["units"] for m in finished.values())
    report(GENERATE.name, units_done, plan.get("units", 0))
    started, started_at = time.perf_counter(), time.time()
    this_run: Counter[str] = Counter()
    pool_start_s = generate_s = 0.0
    if len(finished) < plan.get("batches", 0):
        pool = make_pool(cfg.teacher, cfg.generate)
        pool_start_s = time.perf_counter() - started
        try:
            in_flight: dict[cf.Future[BatchOutcome], UnitBatch] = {}
            limit = pool.slots * cfg.generate.max_in_flight_per_actor

            def collect() -> None:
                nonlocal units_done
                ready, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
                for future in ready:
                    batch = in_flight.pop(future)
                    outcome = future.result()  # a crashed actor or engine fails the stage here; a rerun resumes
                    write_batch(run, batch, outcome)
                    this_run.update(outcome.counters)
                    units_done += len(batch.units)
                    report(
                        GENERATE.name,
                        units_done,
                        plan["units"],
                        dialogues=this_run["dialogues"],
                        rejected=this_run["rejected"],
                        completion_tokens=this_run["tokens/completion"],
                    )
                    warn_on_reject_surge(this_run, run)

            for item in planned_batches(cfg, seeds):
                if isinstance(item, dict) or item.name in finished:
                    continue
                while len(in_flight) >= limit:
                    collect()
                # A batch without a marker may have left shards from a killed attempt: same names, so clear them first.
                clear_prefix(run.generated, item.name)
                clear_prefix(run.rejects(GENERATE.name), item.name)
                in_flight[pool.submit(item)] = item
            while in_flight:
                collect()
            generate_s = time.perf_counter() - started - pool_start_s
        finally:
            pool.close()
    stats = summarize(run, cfg, plan, this_run, time.perf_counter() - started, pool_start_s, generate_s)
    stats.started_at = started_at
    return stats


SURGE_MIN_UNITS = 20  # too few units say nothing about a teacher
SURGE_SHARE = 0.5


def warn_on_reject_surge(this_run: Counter[str], run: RunDir) -> None:
    """Tell the person watching when most units of this invocation are rejected (the console shows it once)."""
    units = this_run["dialogues"] + this_run["rejected"]
    if units < SURGE_MIN_UNITS or this_run["rejected"] < SURGE_SHARE * units:
        return
    reasons = {k.split("/", 1)[1]: v for k, v in this_run.items() if k.startswith("rejected/")}
    top = max(reasons, key=reasons.__getitem__) if reasons else "unknown"
    log.warning(
        "generate: more than half of the units are rejected (%d of %d so far, mostly %s); see %s or `distill view %s`",
        this_run["rejected"],
        units,
        top,
        run.rejects(GENERATE.name),
        run.root,
    )


def summarize(
    run: RunDir,
    cfg: RunConfig,
    plan: dict[str, Any],
    this_run: Counter[str],
    wall_s: float,
    pool_start_s: float,
    generate_s: float,
) -> StageStats:
    """Totals over every batch marker (so a resumed run reports the whole stage), plus this invocation's throughput."""
    finished = done_batches(run.generated)
    stats = StageStats(GENERATE.name)
    for marker in finished.values():
        stats.merge({"counters": marker["counters"]})
    units = sum(m["units"] for m in finished.values())
    if units != plan.get("units", 0) or len(finished) != plan.get("batches", 0):
        raise RuntimeError(
            f"{run.generated}: {units} units in {len(finished)} batches are marked done, the plan has "
            f"{plan.get('units')} in {plan.get('batches')}"
        )
    for key, value in plan.items():
        if key.startswith("rejected/") or key == "seeds_rejected":
            stats.add(key, value)
    stats.add("units_planned", plan.get("units", 0))
    t = cfg.teacher
    if t.backend == "openai_batch" and t.batch_dir:
        from distill.teachers.openai_batch_journal import journal_counters

        stats.merge(
            {"counters": journal_counters(Path(t.batch_dir))}
        )  # batches, lines, resubmissions over every invocation
    c = stats.counters
    cost = (
        c["tokens/prompt"] / 1e6 * t.price_per_million_prompt_tokens
        + c["tokens/completion"] / 1e6 * t.price_per_million_completion_tokens
    )
    stats.info = {
        "teacher": {"id": teacher_id(t), "backend": t.backend, "model": t.model, "revision": t.revision},
        "modes": list(cfg.generate.modes),
        "prompt_version": cfg.generate.prompt_version,
        "batches": len(finished),
        "estimated_cost_usd": round(cost, 6),
        # Prompt tokens the engine served from its prefix cache (vLLM; counted in tokens/prompt_cached) vs computed.
        "prompt_tokens_computed": c["tokens/prompt"] - c["tokens/prompt_cached"],
        "prefix_cache_hit_rate": round(c["tokens/prompt_cached"] / c["tokens/prompt"], 4)
        if c["tokens/prompt"]
        else None,
        "this_invocation": {
            "units": this_run["units"],
            "wall_s": round(wall_s, 3),
            "teacher_start_s": round(pool_start_s, 3),  # engine/actor start-up, in wall_s, not in generate_s
            "generate_s": round(generate_s, 3),  # first batch submitted -> last batch written; the rates below use it
            "completion_tokens": this_run["tokens/completion"],
            "completion_tokens_per_s": round(this_run["tokens/completion"] / generate_s, 2) if generate_s > 0 else None,
            "total_tokens_per_s": round((this_run["tokens/completion"] + this_run["tokens/prompt"]) / generate_s, 2)
            if generate_s > 0
            else None,
            "units_per_s": round(this_run["units"] / generate_s, 3) if generate_s > 0 else None,
        },
    }
    if t.backend == "dryrun":
        stats.info["warning"] = "dryrun teacher: canned text for measuring orchestration only, not training data"
    return stats
