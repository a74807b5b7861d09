"""`distill scorers label`: a deterministic sample of a run's (seeker turn, supporter reply) pairs, rated by the EPITOME
judge and written as an EPITOME CSV folder that `distill scorers fit --data OUT` trains on.

Two streaming passes over the source shards; memory holds the sample's ids, then the labelled sample itself:
1. Every pair gets a key: its rank inside its dialogue by a seeded hash, then that hash. The `sample` smallest keys
   are kept in a bounded heap. Ranking first spreads the sample over dialogues (each dialogue gives one pair before
   any gives a second), and with the same seed a larger sample contains every smaller one, so growing a label set
   pays only for the new pairs.
2. The chosen pairs are read again and judged in batches. After each batch its verdicts and failures go to a state
   file of their own (`OUT/_label_state/batch-*.json`, written atomically), so a rerun judges none of them again:
   resume never pays twice. Unreadable verdicts are kept too, since greedy decoding would fail the same way again;
   requests the teacher itself failed (`judge_failed`: endpoint down, prompt too long) are counted but asked again.
The CSVs (one per mechanism, rationale = the judge's) and `label_stats.json` are written last.
Ids: sp_id = the dialogue id, rp_id = `<dialogue id>_<k>`, k counting the dialogue's pairs from 0 as
`distill.text.turns.Dialogue.response_pairs` lists them.
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distill.atomic import atomic_write_json
from distill.batch_state import BatchState
from distill.curate.shard_io import iter_shard_records
from distill.epitome import FILES, MECHANISMS
from distill.epitome.data import EpitomePair, write_epitome
from distill.epitome.judge import DEFAULT_RUBRIC, EpitomeJudge
from distill.errors import ConfigError, InputError
from distill.judging.verdict import JUDGE_FAILED, JUDGE_UNPARSEABLE
from distill.records import make_id
from distill.shards import list_shards
from distill.text.turns import Dialogue

if TYPE_CHECKING:
    from distill.config import RunConfig

log = logging.getLogger(__name__)

STATE_DIR = "_label_state"
STATS_FILE = "label_stats.json"


def _dialogues(folder: Path) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(dialogue id, its (seeker turn, reply) pairs) for every record of every complete shard, in shard and row
    order."""
    for info in list_shards(folder):
        for _, record in iter_shard_records(info):
            yield str(record["id"]), Dialogue.of(record).response_pairs


def _usable(pair: tuple[str, str]) -> bool:
    return bool(
        pair[0].strip() and pair[1].strip()
    )  # EPITOME CSVs refuse empty posts, so such a pair cannot be written


def pair_id(dialogue_id: str, k: int) -> str:
    return f"{dialogue_id}_{k}"


def _keys(dialogue_id: str, pairs: list[tuple[str, str]], seed: int) -> dict[int, tuple[int, int]]:
    """k -> (rank of the pair inside its dialogue, hash) for the dialogue's usable pairs."""
    hashes = {
        k: int(make_id("epitome-sample", seed, dialogue_id, k), 16) for k, pair in enumerate(pairs) if _usable(pair)
    }
    return {k: (rank, hashes[k]) for rank, k in enumerate(sorted(hashes, key=hashes.__getitem__))}


def choose(folder: Path, sample: int, seed: int) -> tuple[set[str], Counter[str]]:
    """Pass 1: the rp_ids of the `sample` pairs with the smallest keys, and what was seen (dialogues, pairs,
    skipped)."""
    counts: Counter[str] = Counter()
    heap: list[tuple[int, int, str]] = []  # (-rank, -hash, rp_id): the largest kept key on top, to be displaced
    held: set[str] = set()
    for dialogue_id, pairs in _dialogues(folder):
        counts["dialogues_seen"] += 1
        counts["pairs_seen"] += len(pairs)
        keys = _keys(dialogue_id, pairs, seed)
        counts["pairs_skipped_empty"] += len(pairs) - len(keys)
        for k, (rank, h) in keys.items():
            rp_id = pair_id(dialogue_id, k)
            if rp_id in held:  # the same dialogue id twice (not expected after curation): its pairs count once
                continue
            if len(heap) < sample:
                heapq.heappush(heap, (-rank, -h, rp_id))
                held.add(rp_id)
            elif (rank, h) < (-heap[0][0], -heap[0][1]):
                _, _, dropped = heapq.heapreplace(heap, (-rank, -h, rp_id))
                held.discard(dropped)
                held.add(rp_id)
    return held, counts


# -- state
# ---------------------------------------------------------------------------------------------------------------


class LabelState(BatchState):
    """Verdicts already paid for in OUT: `labelled` {rp_id: {levels, rationale}} and `failed` {rp_id: reason}."""

    def __init__(self, out: Path, identity: str) -> None:
        folder = out / STATE_DIR
        super().__init__(
            folder,
            identity,
            id_key="rp_id",
            who_key="judge",
            on_mismatch=f"use another output folder, or remove {folder} to relabel",
        )


# -- the command
# ---------------------------------------------------------------------------------------------------------


def _check_out(out: Path) -> None:
    """Refuse to overwrite EPITOME CSVs this command did not write (a folder of human labels, say)."""
    theirs = [name for name in FILES.values() if (out / name).exists()]
    if theirs and not (out / STATE_DIR).is_dir():
        raise InputError(
            f"{out}: already holds {theirs[0]} not written by `distill scorers label`; choose a new output folder"
        )


def _to_pair(dialogue_id: str, rp_id: str, pair: tuple[str, str], levels: list[int], rationale: str) -> EpitomePair:
    return EpitomePair(
        sp_id=dialogue_id,
        rp_id=rp_id,
        seeker=pair[0],
        response=pair[1],
        levels=dict(zip(MECHANISMS, (int(v) for v in levels), strict=True)),
        rationales=dict.fromkeys(MECHANISMS, rationale),  # the judge gives one rationale for all three
    )


def run_label(
    cfg: RunConfig,
    out: Path,
    sample: int,
    source: str = "curated",
    seed: int = 0,
    *,
    judge: EpitomeJudge | None = None,
    rubric: str = DEFAULT_RUBRIC,
    batch_size: int = 256,
) -> dict[str, Any]:
    """Label `sample` pairs of the run folder's `source` shards into the EPITOME folder `out`; returns the stats.

    `judge` defaults to `EpitomeJudge.from_config(cfg)`, built only if some chosen pair is not labelled yet; a judge
    passed in stays open (the caller owns it). `batch_size` pairs are judged per state file.
    """
    if sample < 1:
        raise ConfigError(f"--sample {sample}: label at least one pair")
    if batch_size < 1:
        raise ConfigError(f"batch_size {batch_size}: must be at least 1")
    folder = cfg.run_dir / source
    if not list_shards(folder):
        raise InputError(
            f"{folder}: no complete dialogue shards to label (run the stage that writes {source!r} first, or pick "
            "another --source)"
        )
    out = Path(out)
    _check_out(out)
    identity = judge.identity if judge is not None else EpitomeJudge.identity_for(cfg, rubric)
    state = LabelState(out, identity)

    chosen, counts = choose(folder, sample, seed)
    log.info(
        "label: %d of %d pairs chosen from %s (%d already judged)",
        len(chosen),
        counts["pairs_seen"],
        folder,
        sum(map(state.done, chosen)),
    )

    built: EpitomeJudge | None = None
    kept: list[tuple[int, EpitomePair]] = []  # (stream position, pair): written in source order whatever was resumed
    pending: list[tuple[int, str, str, tuple[str, str]]] = []
    judged_now = 0
    unserved: dict[
        str, str
    ] = {}  # rp_id -> reason for requests the teacher failed: counted now, asked again on a rerun

    def flush() -> None:
        nonlocal built, judged_now
        active = judge or built
        if active is None:
            active = built = EpitomeJudge.from_config(cfg, rubric=rubric)
        ratings = active.rate([pair for _, _, _, pair in pending])
        labelled, failed = [], []
        for (position, dialogue_id, rp_id, pair), rating in zip(pending, ratings, strict=True):
            if rating.failure == JUDGE_FAILED:  # an endpoint or engine fault, not the judge's answer: not kept
                unserved[rp_id] = rating.failure
                continue
            if rating.value is None:
                reason = rating.failure or JUDGE_UNPARSEABLE
                failed.append({"rp_id": rp_id, "reason": reason, "detail": rating.detail[:300]})
                continue
            levels, rationale = rating.value
            labelled.append({"rp_id": rp_id, "levels": list(levels), "rationale": rationale})
            kept.append((position, _to_pair(dialogue_id, rp_id, pair, list(levels), rationale)))
        state.add_batch(labelled, failed)
        judged_now += len(pending)
        log.info("label: %d pairs judged this run (%d failed in the last batch)", judged_now, len(failed))
        pending.clear()

    position = 0
    seen: set[str] = set()
    try:
        for dialogue_id, pairs in _dialogues(folder):
            for k, pair in enumerate(pairs):
                rp_id = pair_id(dialogue_id, k)
                if rp_id not in chosen or rp_id in seen:
                    continue
                seen.add(rp_id)
                position += 1
                if rp_id in state.labelled:
                    row = state.labelled[rp_id]
                    kept.append((position, _to_pair(dialogue_id, rp_id, pair, row["levels"], row["rationale"])))
                elif rp_id not in state.failed:
                    pending.append((position, dialogue_id, rp_id, pair))
                    if len(pending) >= batch_size:
                        flush()
        if pending:
            flush()
    finally:
        if built is not None:
            built.close()

    kept.sort(key=lambda item: item[0])
    files = write_epitome(out, [pair for _, pair in kept])
    failed_by_reason = Counter(state.failed[rp_id] for rp_id in chosen if rp_id in state.failed) + Counter(
        unserved.values()
    )
    stats: dict[str, Any] = {
        "source": str(folder),
        "judge": identity,
        "seed": seed,
        "dialogues_seen": counts["dialogues_seen"],
        "pairs_seen": counts["pairs_seen"],
        "pairs_skipped_empty": counts["pairs_skipped_empty"],
        "sample_requested": sample,
        "sampled": len(chosen),
        "labelled": len(kept),
        "failed": dict(sorted(failed_by_reason.items())),
        "failed_total": sum(failed_by_reason.values()),
        "judged_this_run": judged_now,
        "reused": len(chosen) - judged_now,
        "files": [p.name for p in files],
    }
    if stats["labelled"] + stats["failed_total"] != stats["sampled"]:  # every chosen pair is labelled or failed, once
        raise InputError(
            f"{folder}: {stats['sampled']} pairs chosen but {stats['labelled'] + stats['failed_total']} found again; "
            "did the shards change while labelling?"
        )
    atomic_write_json(out / STATS_FILE, stats)
    log.info(
        "label: %d labelled, %d failed of %d sampled -> %s",
        stats["labelled"],
        stats["failed_total"],
        stats["sampled"],
        out,
    )
    return stats
