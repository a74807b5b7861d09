"""Prefix caching on the embedded engine: a prompt that repeats an earlier one's prefix is partly served from the cache,
and the result says how much (what turn-by-turn synthesis saves, counted in stats/generate.json)."""

from __future__ import annotations

import uuid

import pytest

from distill.teachers.base import SamplingParams, TeacherRequest

pytestmark = pytest.mark.slow


def test_a_repeated_prefix_is_counted_as_cached_prompt_tokens(embedded_vllm_teacher):
    # A prefix no other test sent (the cache lives as long as the session's engine), long enough to fill several blocks.
    prefix = (
        f"Session {uuid.uuid4().hex}. You are a caring listener. "
        + "Listen closely, reflect feelings, and ask gently. " * 12
    )
    sampling = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=4, seed=1)

    def ask(i: int, question: str) -> TeacherRequest:
        return TeacherRequest(
            id=f"p{i}",
            messages=[{"role": "system", "content": prefix}, {"role": "user", "content": question}],
            sampling=sampling,
        )

    [first] = embedded_vllm_teacher.generate([ask(0, "I feel lonely tonight.")])
    [second] = embedded_vllm_teacher.generate([ask(1, "My exam went badly.")])
    assert first.ok and second.ok
    assert first.cached_prompt_tokens == 0
    assert 0 < second.cached_prompt_tokens < second.prompt_tokens  # the shared system prompt, not the new question
