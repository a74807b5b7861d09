"""OpenAI Batch API lines, as pure functions: a TeacherRequest -> one JSONL input line, input lines -> files under the
API's limits, and one output- or error-file line -> a result, a retryable failure, or a final failure.

The line format is the one `client.batches.create` reads (`custom_id`, `method`, `url`, `body`) and the one its output
and
error files carry (`custom_id`, `response: {status_code, body}`, `error: {code, message}`). No I/O here, so every rule
is tested without a server; `distill generate --export-requests` writes the same lines.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from distill.config import TeacherSection
from distill.teachers.base import TeacherRequest, TeacherResult
from distill.teachers.openai_backend import on_openai, response_format_kwargs

ENDPOINT = "/v1/chat/completions"
COMPLETION_WINDOW = "24h"  # the only window the Batch API offers
# Published limits (platform.openai.com/docs/guides/batch): 50,000 requests and 200 MB per input file.
MAX_REQUESTS_PER_FILE = 50_000
MAX_BYTES_PER_FILE = 200_000_000
# Line errors worth another try: the window ran out, or the service was overloaded or failed on its side.
RETRYABLE_CODES = frozenset(
    {"batch_expired", "rate_limit_exceeded", "server_error", "internal_error", "timeout", "missing_from_results"}
)


def request_body(teacher: TeacherSection, req: TeacherRequest) -> dict[str, Any]:
    """The chat-completions body, the same fields the synchronous backend sends."""
    return {
        "model": teacher.model,
        "messages": req.messages,
        "temperature": req.sampling.temperature,
        "top_p": req.sampling.top_p,
        "max_tokens": req.sampling.max_tokens,
        "seed": req.sampling.seed,
        **response_format_kwargs(req.response_schema, openai_subset=on_openai(teacher)),
    }


def request_line(teacher: TeacherSection, req: TeacherRequest) -> bytes:
    line = {"custom_id": req.id, "method": "POST", "url": ENDPOINT, "body": request_body(teacher, req)}
    return json.dumps(line, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"


def line_digest(line: bytes) -> str:
    """What identifies a request's content: the same id with another body (other sampling, another model) is another
    request."""
    return hashlib.sha256(line).hexdigest()[:16]


def split_lines(
    lines: Iterable[tuple[str, bytes]], max_requests: int, max_bytes: int
) -> Iterator[list[tuple[str, bytes]]]:
    """Consecutive (id, line) pairs grouped into files of at most `max_requests` lines and `max_bytes` bytes."""
    chunk: list[tuple[str, bytes]] = []
    size = 0
    for rid, line in lines:
        if len(line) > max_bytes:
            raise ValueError(
                f"request {rid}: its batch line is {len(line)} bytes, over teacher.batch_max_bytes={max_bytes}"
            )
        if chunk and (len(chunk) >= max_requests or size + len(line) > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append((rid, line))
        size += len(line)
    if chunk:
        yield chunk


@dataclass(frozen=True)
class LineOutcome:
    """One answered line: `result` is final (text, or an error that becomes a reject); `retry` asks for resubmission."""

    custom_id: str
    result: TeacherResult | None = None
    retry: str | None = None  # why it may succeed on another submission


def parse_result_line(raw: str) -> LineOutcome:
    """One line of a batch's output or error file. Raises ValueError for a line that is not a batch result at all."""
    row = json.loads(raw)
    if not isinstance(row, dict) or not isinstance(row.get("custom_id"), str):
        raise ValueError("not a batch result line (no custom_id)")
    cid = row["custom_id"]
    error = row.get("error")
    response = row.get("response") or {}
    if error:
        code = str(error.get("code") or "error")
        return _failure(cid, code, f"{code}: {error.get('message') or ''}".strip())
    status = int(response.get("status_code") or 0)
    body = response.get("body") or {}
    if status != 200:
        err = body.get("error") if isinstance(body, dict) else None
        message = (err or {}).get("message") if isinstance(err, dict) else str(body)[:200]
        code = "rate_limit_exceeded" if status == 429 else "server_error" if status >= 500 else f"http_{status}"
        return _failure(cid, code, f"{code}: {message}")
    return LineOutcome(cid, result=completion_result(cid, body))


def _failure(cid: str, code: str, detail: str) -> LineOutcome:
    detail = f"batch_line_error: {detail}"[:500]
    if code in RETRYABLE_CODES:
        return LineOutcome(cid, retry=detail)
    return LineOutcome(cid, result=TeacherResult(id=cid, text=None, finish_reason=None, error=detail))


def completion_result(cid: str, body: Any) -> TeacherResult:
    """A chat.completion body -> result; a body without a message is this request's error, as in the synchronous
    backend."""
    try:
        choice = body["choices"][0]
        text = choice["message"]["content"]
        usage = body.get("usage") or {}
        return TeacherResult(
            id=cid,
            text=text,
            finish_reason=choice.get("finish_reason"),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            error=None if text is not None else "bad_response: no message content",
        )
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        return TeacherResult(
            id=cid, text=None, finish_reason=None, error=f"bad_response: {type(exc).__name__}: {str(exc)[:200]}"
        )


def result_to_json(result: TeacherResult) -> dict[str, Any]:
    return {
        "text": result.text,
        "finish_reason": result.finish_reason,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "error": result.error,
    }


def result_from_json(rid: str, data: dict[str, Any]) -> TeacherResult:
    return TeacherResult(id=rid, **data)
