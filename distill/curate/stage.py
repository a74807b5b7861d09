"""The curate stage: generated/ -> filters + scorers -> global dedup -> curated/, samples/, prefs/, rejects/curate/,
stats/curate.json and dataset_card.md.

Passes talk through files under `<run>/dedup/`: (1) per shard, filter + score + MinHash signatures; (2) on the driver,
exact + LSH candidates verified by Jaccard -> components -> keepers; (2b) per shard, MiniLM embeddings of the survivors,
then cosine components on the driver; (3) per shard, write the keepers and their sample windows; (4) preference pairs
and the card. Per-shard passes run in this process or as Ray tasks (`curate.executor`). An unfinished stage restarts
from scratch on the next run (its passes are minutes, and a clean restart can never double-count).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distill.config import RunConfig
from distill.curate.card import write_card
from distill.curate.embed_pass import embed_shard
from distill.curate.executor import map_on_actors, map_shards, resolve_executor
from distill.curate.finalize import finalize_shard
from distill.curate.score_pass import build_counted_scorers, close_scorers, score_shard
from distill.curate.shard_io import clear
from distill.dedup.near import Duplicate, find_duplicates
from distill.epitome.provenance import empathy_provenance
from distill.errors import InputError
from distill.progress import report
from distill.records import PREFERENCE_PAIR
from distill.run_dir import RunDir
from distill.shards import ShardInfo, ShardWriter, list_shards
from distill.stages import CURATE, run_stage
from distill.stats import StageStats

if TYPE_CHECKING:
    from distill.generate.pool import RayPool

log = logging.getLogger(__name__)

MODEL_SCORERS = {
    "epitome_classifier",
    "hf_classifier",
}  # scorers that load a model: on actors under Ray, loaded once each
DUPLICATES_SCHEMA_FIELDS = ("id", "keeper_id", "reason", "similarity")


def _write_duplicates(folder: Path, duplicates: list[Duplicate]) -> None:
    """The cluster decisions, kept for audit (`why was X dropped?` -> its keeper and similarity)."""
    import pyarrow as pa

    schema = pa.schema(
        [("id", pa.string()), ("keeper_id", pa.string()), ("reason", pa.string()), ("similarity", pa.float64())]
    )
    with ShardWriter(folder, schema, prefix="duplicates") as out:
        out.write(
            {"id": d.id, "keeper_id": d.keeper_id, "reason": d.reason, "similarity": d.similarity} for d in duplicates
        )


def dedup(cfg: RunConfig, work: Path) -> dict[str, Duplicate]:
    section = cfg.curate
    duplicates = find_duplicates(work / "signatures", section.minhash_threshold)
    if section.semantic_threshold is not None:
        dropped = {d.id for d in duplicates}
        map_shards(
            embed_shard,
            list_shards(work / "scored"),
            section.executor,
            cfg=cfg,
            skip=dropped,
            out_dir=work / "embeddings",
        )
        from distill.dedup.semantic import semantic_duplicates

        duplicates += semantic_duplicates(work / "embeddings", section.semantic_threshold)
    _write_duplicates(work / "duplicates", duplicates)
    return {d.id: d for d in duplicates}


def write_prefs(cfg: RunConfig, run: RunDir, stats: StageStats) -> None:
    from distill.curate.prefs import PairTeacher, auto_pairs, cross_dialogue_pairs, teacher_pairs

    method = cfg.curate.preference_method
    # Rejected replies as long as the chosen ones may be: the same per-turn budget generation had.
    max_tokens = cfg.generate.sampling.max_tokens
    with ShardWriter(run.prefs, PREFERENCE_PAIR, rows_per_shard=cfg.curate.rows_per_shard) as out:
        if method == "cross_dialogue":
            out.write(cross_dialogue_pairs(run.curated, stats))
            return
        teacher = PairTeacher(cfg)
        try:
            pairs = auto_pairs if method == "auto" else teacher_pairs
            out.write(pairs(run.curated, teacher, stats, max_tokens=max_tokens))
        finally:
            teacher.close()


def check_prefs_add_up(counters: dict[str, int]) -> None:
    """Every curated dialogue has a pair or a counted reason for none (a bug otherwise, not a user error)."""
    skipped = sum(v for k, v in counters.items() if k.startswith("prefs/skipped/"))
    by_method = sum(v for k, v in counters.items() if k.startswith("prefs/method/"))
    if counters["curated"] != counters["preference_pairs"] + skipped or by_method != counters["preference_pairs"]:
        raise RuntimeError(
            f"preference pairs lost dialogues: {counters['curated']} curated, "
            f"{counters['preference_pairs']} pairs "
            f"({by_method} by method), {skipped} skipped"
        )


PASSES = 4  # score, dedup, finalize, preference pairs: the progress a person sees


def score_all(
    cfg: RunConfig, inputs: list[ShardInfo], executor: str, work: Path, rejects: Path
) -> list[dict[str, Any]]:
    """Pass 1 over every generated shard. Models are loaded once: in this process locally; under Ray the classifier
    once per classifier actor (`curate.classifier_*`) and the LLM judge's engine once per teacher actor (the pool
    generation uses, `teacher.num_actors`), which every shard task sends its requests to; other scorers are cheap
    and built per task."""
    from distill.scorers import build_scorers

    section = cfg.curate
    if executor == "local":  # one set of scorers (a judge teacher, a classifier) for every shard
        scorers, built = build_counted_scorers(cfg)
        loads = {"counters": {"judge/engine_loads": built}} if built else {}
        try:
            return [
                *map_shards(score_shard, inputs, "local", cfg=cfg, work=work, rejects_dir=rejects, scorers=scorers),
                loads,
            ]
        finally:
            close_scorers(scorers)
    judge_pool = _judge_pool(cfg)
    judge = {"judge_teacher": judge_pool.requests_client()} if judge_pool is not None else {}
    try:
        if MODEL_SCORERS & set(section.scorers):
            results, loads = map_on_actors(
                score_shard,
                inputs,
                build=build_scorers,
                build_kwargs={"cfg": cfg, **judge},
                state_key="scorers",
                actors=section.classifier_actors,
                num_cpus=section.classifier_num_cpus,
                num_gpus=section.classifier_num_gpus,
                cfg=cfg,
                work=work,
                rejects_dir=rejects,
            )
            results.append({"counters": {"model_loads": loads}})
        else:
            results = map_shards(score_shard, inputs, "ray", cfg=cfg, work=work, rejects_dir=rejects, **judge)
        if judge_pool is not None:
            results.append({"counters": {"judge/engine_loads": judge_pool.engine_loads()}})
        return results
    finally:
        if judge_pool is not None:
            judge_pool.close()


def _judge_pool(cfg: RunConfig) -> RayPool | None:
    """Teacher actors for the LLM judge when the run's teacher lives on Ray (an engine), else None: an HTTP client
    (openai) is cheap to build in each task and keeps the API key out of the actors.

    The actors' CPU request is lowered, with a warning, where it would leave the shard work nothing to run on (the
    demo asks 2 CPUs per actor for generation; on a 2-CPU machine the shard tasks would wait forever). It is only
    Ray's scheduling token: the engine sizes its threads itself."""
    import ray

    from distill.generate.pool import RayPool, uses_ray
    from distill.ray_cluster import connect_ray

    section = cfg.curate
    if "llm_judge" not in section.scorers or not uses_ray(cfg.teacher):
        return None
    connect_ray()
    teacher = cfg.teacher
    cpus = float(ray.cluster_resources().get("CPU", 0.0))
    # What the shard work needs besides: the classifier actors when they run it, else one task at a time.
    reserve = section.classifier_actors * section.classifier_num_cpus if MODEL_SCORERS & set(section.scorers) else 1.0
    wanted = teacher.num_actors * teacher.num_cpus_per_actor
    if teacher.tensor_parallel_size == 1 and wanted + reserve > cpus:
        fitted = max(0.0, (cpus - reserve) / teacher.num_actors)
        log.warning(
            "curate: the judge's %d teacher actor(s) ask for %g of the cluster's %g CPUs, leaving too few for the "
            "shard "
            "work (%g); each gets %g instead",
            teacher.num_actors,
            wanted,
            cpus,
            reserve,
            fitted,
        )
        teacher = teacher.model_copy(update={"num_cpus_per_actor": fitted})
    return RayPool(teacher, cfg.generate)


def run_curate(cfg: RunConfig, *, new_run: bool = False) -> StageStats:
    """Run the curate stage into the run folder (a finished stage is not redone; `new_run` discards one made under
    another config)."""
    return run_stage(CURATE, cfg, _curate, new_run=new_run)


def _curate(cfg: RunConfig, run: RunDir) -> StageStats:
    inputs = list_shards(run.generated)
    if not inputs:
        raise InputError(f"{run.generated}: no generated shards to curate; run `distill generate` first")
    section = cfg.curate
    work, rejects = run.path("dedup"), run.rejects(CURATE.name)
    clear(run.curated, run.samples, run.prefs, rejects, work)
    stats = StageStats(CURATE.name)

    executor = resolve_executor(section.executor)
    passes = PASSES if section.preference_pairs else PASSES - 1
    report(CURATE.name, 0, passes, unit="passes")
    for counters in score_all(cfg, inputs, executor, work, rejects):
        stats.merge(counters)
    report(CURATE.name, 1, passes, unit="passes", dialogues=stats.counters["dialogues_in"])

    duplicates = dedup(cfg, work)
    report(CURATE.name, 2, passes, unit="passes", dialogues=stats.counters["dialogues_in"], duplicates=len(duplicates))
    scored = list_shards(work / "scored")
    outputs = {"curated_dir": run.curated, "samples_dir": run.samples, "rejects_dir": rejects}
    for counters in map_shards(finalize_shard, scored, section.executor, cfg=cfg, duplicates=duplicates, **outputs):
        stats.merge(counters)
    report(
        CURATE.name,
        3,
        passes,
        unit="passes",
        dialogues=stats.counters["dialogues_in"],
        curated=stats.counters["curated"],
    )
    if section.preference_pairs:
        write_prefs(cfg, run, stats)
        report(
            CURATE.name,
            4,
            passes,
            unit="passes",
            curated=stats.counters["curated"],
            pairs=stats.counters["preference_pairs"],
        )

    c = stats.counters
    if section.preference_pairs:
        check_prefs_add_up(c)
    c["rejected"] = sum(v for k, v in c.items() if k.startswith("dropped/"))
    if c["dialogues_in"] != c["curated"] + c["rejected"]:  # a bug, not a user error: every record must land somewhere
        raise RuntimeError(
            f"curate lost records: {c['dialogues_in']} in, {c['curated']} curated + {c['rejected']} rejected"
        )
    stats.info = {
        "shards_in": len(inputs),
        "executor": executor,
        "scorers": list(section.scorers),
        "empathy_scorer": empathy_provenance(cfg),
    }
    write_card(run, dict(c), stats.info["empathy_scorer"])
    log.info(
        "curate: %d in, %d curated, %d rejected, %d samples, %d preference pairs",
        c["dialogues_in"], c["curated"], c["rejected"], c["samples"], c["preference_pairs"],
    )  # fmt: skip
    return stats
