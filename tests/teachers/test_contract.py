"""The Teacher contract every backend keeps: one result per request, same order and ids; build_teacher picks by name."""

from __future__ import annotations

import pytest

from distill.config import TeacherSection
from distill.teachers import build_teacher, teacher_id
from distill.teachers.base import SamplingParams, Teacher, TeacherRequest, TeacherResult, check_results


def test_dryrun_keeps_the_contract_and_is_deterministic():
    t = build_teacher(TeacherSection(backend="dryrun"))
    assert isinstance(t, Teacher) and t.backend == "dryrun"
    reqs = [
        TeacherRequest(f"r{i}", [{"role": "user", "content": "hi"}], SamplingParams(0.8, 0.9, 64, i)) for i in range(5)
    ]
    out = t.generate(reqs)
    assert [r.id for r in out] == [r.id for r in reqs]
    assert [r.text for r in t.generate(reqs)] == [r.text for r in out]
    assert len({r.text for r in out}) > 1 and all(r.text.startswith("DRYRUN") for r in out)


def test_check_results_refuses_a_backend_that_breaks_order_or_count():
    reqs = [TeacherRequest(i, [], SamplingParams(0, 1, 1, 0)) for i in "ab"]
    ok = [TeacherResult("a", "x", "stop"), TeacherResult("b", "y", "stop")]
    assert check_results(reqs, ok, "t") == ok
    with pytest.raises(RuntimeError, match="result 'b' where request 'a'"):
        check_results(reqs, ok[::-1], "t")
    with pytest.raises(RuntimeError, match="1 results for 2 requests"):
        check_results(reqs, ok[:1], "t")


def test_teacher_id_names_backend_model_and_revision_not_the_local_path():
    assert teacher_id(TeacherSection(backend="vllm")) == "vllm/embedded@default"
    assert (
        teacher_id(TeacherSection(backend="openai", model="gpt-4o-mini", revision="2024-07-18"))
        == "openai/gpt-4o-mini@2024-07-18"
    )
