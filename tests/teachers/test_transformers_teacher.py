"""transformers fallback teacher on the embedded SmolLM2 (real weights, CPU): the Teacher contract and its failure
modes."""

from __future__ import annotations

import pytest

from distill.config import TeacherSection
from distill.teachers import build_teacher
from distill.teachers.base import SamplingParams, Teacher, TeacherRequest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def teacher():
    t = build_teacher(TeacherSection(backend="transformers", model="embedded", max_model_len=256, batch_size=4))
    yield t
    t.close()


def chat(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You are a kind listener."}, {"role": "user", "content": text}]


def test_contract_order_usage_and_reproducibility(teacher):
    assert (
        isinstance(teacher, Teacher)
        and teacher.backend == "transformers"
        and teacher.model == "embedded:SmolLM2-135M-Instruct"
    )
    reqs = [
        TeacherRequest(str(i), chat(t), SamplingParams(0.8, 0.95, 6, 100 + i))
        for i, t in enumerate(["I lost my job.", "I feel alone.", "Hi"])
    ]
    first = teacher.generate(reqs)
    assert [r.id for r in first] == ["0", "1", "2"]
    assert all(r.ok and r.completion_tokens <= 6 and r.prompt_tokens > 0 for r in first)
    assert {r.finish_reason for r in first} <= {"stop", "length"}
    assert [r.text for r in teacher.generate(reqs)] == [r.text for r in first], "same plan, same seeds -> same text"


def test_a_prompt_longer_than_the_context_fails_only_its_batch(teacher):
    long = TeacherRequest("long", chat("word " * 400), SamplingParams(0.0, 1.0, 4, 0))
    [result] = teacher.generate([long])
    assert result.text is None and result.error.startswith("prompt_too_long")
