"""EPITOME levels for (seeker post, response) pairs from an LLM judge, through any teacher backend.

This is the licence-clean route to a trained scorer (the FineWeb-Edu recipe): a strong model rates 10^4-10^5 pairs
with the rubric `distill/judging/rubrics/<version>/epitome.txt` (`distill scorers label`), a small encoder is fitted
on its labels (`distill scorers fit`), and `distill scorers validate` measures either against human EPITOME labels.

One request per pair, greedy, with a seed derived from the pair's text: the same pair gets the same rating on every
rerun, whichever batch it lands in. Each request carries the levels' JSON schema, so vLLM and OpenAI-compatible
backends decode only valid verdicts; for the others the judge kit (`distill.judging`) reads the reply tolerantly
(<think> blocks stripped, the first JSON object taken). A reply that cannot be read is a counted failure with one of
`distill.judging.verdict.FAILURES`, never a guessed level.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from distill.epitome import MECHANISMS
from distill.epitome.agreement import Levels, Pair
from distill.judging.fields import LEVEL_SCHEMA, RATIONALE_SCHEMA, parse_level
from distill.judging.rubric import Rubric, load_rubric
from distill.judging.verdict import Verdict, first_json_object, read_verdict
from distill.records import make_id
from distill.teachers.base import SamplingParams, Teacher, TeacherRequest, TeacherResult

if TYPE_CHECKING:
    from distill.config import RunConfig, TeacherSection

log = logging.getLogger(__name__)

DEFAULT_RUBRIC = "v1"
RUBRIC_FIELDS = ("seeker", "response")
EPITOME_SCHEMA: dict[str, Any] = {
    "title": "epitome_levels",
    "type": "object",
    "properties": {**{m: LEVEL_SCHEMA for m in MECHANISMS}, "rationale": RATIONALE_SCHEMA},
    "required": [*MECHANISMS, "rationale"],
    "additionalProperties": False,
}
# What the judge reads for one pair: levels in MECHANISMS order and its one-sentence rationale.
LevelsAndRationale = tuple[Levels, str]


def load_epitome_rubric(version: str = DEFAULT_RUBRIC) -> Rubric:
    return load_rubric("epitome", version, setting="epitome judge rubric", fields=RUBRIC_FIELDS)


def render_pair_messages(seeker: str, response: str, rubric: Rubric) -> list[dict[str, str]]:
    return rubric.messages(seeker=seeker.strip(), response=response.strip())


def pair_request(pair: Pair, rubric: Rubric, max_tokens: int) -> TeacherRequest:
    """The request for one pair; its id and seed come from the rubric version and the pair's text only."""
    rid = make_id("epitome-judge", rubric.version, pair[0], pair[1])
    sampling = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=int(rid[:8], 16))
    messages = render_pair_messages(*pair, rubric)
    return TeacherRequest(id=rid, messages=messages, sampling=sampling, response_schema=EPITOME_SCHEMA)


def parse_pair_reply(text: str) -> LevelsAndRationale:
    """(levels, rationale) from the judge's answer, or VerdictError naming what is wrong."""
    obj = first_json_object(text)
    levels = tuple(parse_level(obj, m) for m in MECHANISMS)
    return (levels[0], levels[1], levels[2]), " ".join(str(obj.get("rationale") or "").split())[:500]


def rating_of(result: TeacherResult) -> Verdict[LevelsAndRationale]:
    return read_verdict(result, parse_pair_reply)


class EpitomeJudge:
    """A `LevelPredictor` backed by a teacher: `rate` gives verdicts with rationales, `predict` just the levels.

    `failures` counts failure reasons over the judge's life; `requests_sent` counts pairs sent to the teacher.
    """

    name = "llm_judge"

    def __init__(
        self,
        teacher: Teacher,
        rubric: Rubric,
        *,
        max_tokens: int = 256,
        batch_size: int = 256,
        identity: str | None = None,
    ) -> None:
        self.teacher, self.rubric, self.max_tokens, self.batch_size = teacher, rubric, max_tokens, batch_size
        self.identity = identity or f"{teacher.backend}/{teacher.model}|epitome_{rubric.version}"
        self.failures: Counter[str] = Counter()
        self.requests_sent = 0

    @staticmethod
    def judge_section(cfg: RunConfig) -> TeacherSection:
        """The judge model: `eval.judge_teacher` when set, else the run's teacher (served in this process)."""
        section = cfg.eval.judge_teacher or cfg.teacher
        return section.model_copy(update={"placement": "local"})

    @classmethod
    def identity_for(cls, cfg: RunConfig, rubric: str = DEFAULT_RUBRIC) -> str:
        """What names this judge in label outputs, known before any model is loaded (so a resume can check it first)."""
        from distill.teachers import teacher_id

        return f"{teacher_id(cls.judge_section(cfg))}|epitome_{rubric}"

    @classmethod
    def from_config(cls, cfg: RunConfig, *, rubric: str = DEFAULT_RUBRIC, batch_size: int = 256) -> EpitomeJudge:
        from distill.teachers import build_teacher

        loaded = load_epitome_rubric(rubric)  # a missing rubric fails before minutes of model loading
        section = cls.judge_section(cfg)
        log.info("EPITOME judge: %s %s, rubric %s", section.backend, section.model, rubric)
        identity = cls.identity_for(cfg, rubric)
        max_tokens = cfg.eval.judge_max_tokens
        return cls(build_teacher(section), loaded, max_tokens=max_tokens, batch_size=batch_size, identity=identity)

    def rate(self, pairs: Sequence[Pair]) -> list[Verdict[LevelsAndRationale]]:
        """One verdict per pair, in order: its value is (levels, rationale), or its failure says why there is none."""
        ratings: list[Verdict[LevelsAndRationale]] = []
        for start in range(0, len(pairs), self.batch_size):
            requests = [pair_request(p, self.rubric, self.max_tokens) for p in pairs[start : start + self.batch_size]]
            results = self.teacher.generate(requests)
            self.requests_sent += len(requests)
            for rating in map(rating_of, results):
                if rating.failure is not None:
                    self.failures[rating.failure] += 1
                ratings.append(rating)
            failed = sum(self.failures.values())
            log.info("EPITOME judge: %d/%d pairs rated, %d failed so far", len(ratings), len(pairs), failed)
        return ratings

    def predict(self, pairs: Sequence[Pair]) -> list[Levels | None]:
        return [r.value[0] if r.value is not None else None for r in self.rate(pairs)]

    def close(self) -> None:
        self.teacher.close()
