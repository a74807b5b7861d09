"""The Teacher contract: OpenAI-style messages + sampling (with a per-request seed) in, text + usage (or an error) out.

Every backend (vLLM engine, OpenAI-compatible endpoint, transformers, dryrun) implements `Teacher`; generation and
the LLM judge code against this module only. A per-request failure is a `TeacherResult` with `error` set, never an
exception: upstream turns it into a reject, so one bad request cannot sink a batch.

A request may carry a JSON schema (`response_schema`): backends that can constrain decoding to it do (vLLM structured
outputs, OpenAI `response_format: json_schema`); the others ignore it, so callers still parse the text tolerantly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class SamplingParams:
    temperature: float
    top_p: float
    max_tokens: int
    seed: int  # per-request sampling seed, derived from the record id so reruns reproduce

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TeacherRequest:
    id: str
    messages: list[dict[str, str]]  # OpenAI roles: system / user / assistant
    sampling: SamplingParams
    # JSON schema the reply must match, where the backend can enforce it (judges); None = free text.
    response_schema: dict[str, Any] | None = None


@dataclass
class TeacherResult:
    id: str
    text: str | None
    finish_reason: str | None  # "stop" | "length" | backend-specific; "length" means truncated
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None  # set => text is None; becomes a reject upstream
    # Of prompt_tokens, how many the engine served from its prefix cache instead of computing (vLLM; 0 elsewhere).
    cached_prompt_tokens: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None


@runtime_checkable
class Teacher(Protocol):
    backend: str  # "vllm" | "openai" | "transformers" | "dryrun"
    model: str  # model id/path as used

    def generate(self, requests: Sequence[TeacherRequest]) -> list[TeacherResult]:
        """Results in the same order and with the same ids as `requests`."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class AsyncTeacher(Teacher, Protocol):
    """A teacher that also serves one request at a time as a coroutine on its own event loop, so each dialogue can
    queue its next turn as soon as its last one is back (the engine batches across dialogues continuously)."""

    def submit(self, coro: Any) -> Any:
        """Run `coro` on the loop where `generate_one` must be awaited; returns a `concurrent.futures.Future`."""
        ...

    async def generate_one(self, request: TeacherRequest) -> TeacherResult: ...


def failed(request: TeacherRequest, error: str) -> TeacherResult:
    """The result for a request the backend could not serve."""
    return TeacherResult(id=request.id, text=None, finish_reason=None, error=error)


def check_results(
    requests: Sequence[TeacherRequest], results: Sequence[TeacherResult], backend: str
) -> list[TeacherResult]:
    """Guard the contract: one result per request, same order and ids (a mismatch is a backend bug, so it raises)."""
    if len(results) != len(requests):
        raise RuntimeError(f"{backend} teacher returned {len(results)} results for {len(requests)} requests")
    for req, res in zip(requests, results):
        if req.id != res.id:
            raise RuntimeError(f"{backend} teacher returned result {res.id!r} where request {req.id!r} was expected")
    return list(results)


def model_label(ref: str) -> str:
    """The model as recorded in outputs: the configured id or path ('embedded' names the embedded model)."""
    from distill.embedded import EMBEDDED, EMBEDDED_NAME

    return f"{EMBEDDED}:{EMBEDDED_NAME}" if ref == EMBEDDED else ref
