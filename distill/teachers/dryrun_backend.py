"""DRYRUN teacher: deterministic filler turns for measuring orchestration (Ray, shards, resume) without a model.

Its text is meaningless, chosen by the request seed; never train on it. It is never the default backend, and every
dialogue it writes says `backend: dryrun` in its `teacher` field (stats/generate.json carries a warning too).
It ignores `response_schema`: its filler is never JSON, which is how tests see a judge's unparseable-reply path.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

from distill.config import TeacherSection
from distill.teachers.base import TeacherRequest, TeacherResult

_WORDS = (
    "I",
    "you",
    "feel",
    "this",
    "that",
    "week",
    "really",
    "hard",
    "here",
    "with",
    "it",
    "makes",
    "sense",
    "and",
    "so",
    "tired",
    "listen",
)


class DryRunTeacher:
    backend = "dryrun"

    def __init__(self, cfg: TeacherSection) -> None:
        self.model = f"dryrun:{cfg.model}"
        self.latency_s = cfg.dryrun_latency_s

    def generate(self, requests: Sequence[TeacherRequest]) -> list[TeacherResult]:
        if self.latency_s:
            time.sleep(self.latency_s)  # stands in for engine time, so orchestration overhead can be compared with it
        return [self._one(r) for r in requests]

    def _one(self, request: TeacherRequest) -> TeacherResult:
        rng = random.Random(request.sampling.seed)
        # Kept cheap (one `choices` call, a character count for the prompt): this stands in for the engine, and its own
        # cost would otherwise be counted as the orchestration overhead it exists to measure.
        words = rng.choices(_WORDS, k=rng.randint(8, min(40, max(8, request.sampling.max_tokens))))
        text = "DRYRUN " + " ".join(words) + "."
        prompt_tokens = sum(len(m["content"]) for m in request.messages) // 4  # ~4 characters per token
        return TeacherResult(request.id, text, "stop", prompt_tokens=prompt_tokens, completion_tokens=len(words) + 1)

    def close(self) -> None:
        pass
