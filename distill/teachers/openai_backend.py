"""OpenAI-compatible endpoint teacher (OpenAI, vLLM's server, any chat-completions server) with the `openai` async
client.

Bounded concurrency, optional requests/tokens-per-minute limits, and `tenacity` retries with exponential backoff +
jitter that honour `Retry-After`. Only 429, 5xx, timeouts and connection errors are retried; anything else fails that
request, which becomes a reject upstream. A retry budget shared by the whole teacher stops a run against a dead
endpoint (`TeacherUnavailableError`; the batch in flight is not written, so a rerun resumes it). A request's
`response_schema` is sent as `response_format: json_schema` (strict). The API key is read
from the environment variable named in the config and never logged, stored or put in an error message.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import re
import time
from collections.abc import Sequence
from typing import Any

from distill.config import TeacherSection
from distill.errors import ConfigError
from distill.teachers.base import TeacherRequest, TeacherResult, failed

log = logging.getLogger(__name__)


class TeacherUnavailableError(RuntimeError):
    """The endpoint kept failing past the retry budget: a job-level failure, not a per-record one."""


def retry_after_s(exc: BaseException) -> float | None:
    """The server's requested wait from `Retry-After` (seconds or an HTTP date) or `retry-after-ms`, if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    if headers.get("retry-after-ms"):
        try:
            return float(headers["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def is_retryable(exc: BaseException) -> bool:
    import openai

    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError, asyncio.TimeoutError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


# OpenAI's strict structured outputs take a subset of JSON Schema whose published list has no string length bounds.
# Ours are there to make small local models close their JSON; OpenAI's models do not need them, so they are dropped.
_NOT_IN_OPENAI_SUBSET = frozenset({"minLength", "maxLength"})


def on_openai(cfg: TeacherSection) -> bool:
    """Whether the endpoint is OpenAI's own API (no base_url, or api.openai.com), not a compatible server."""
    from urllib.parse import urlparse

    return cfg.base_url is None or urlparse(cfg.base_url).hostname == "api.openai.com"


def openai_schema(schema: Any) -> Any:
    """`schema` without the keywords OpenAI's strict subset lacks (property names are kept whatever they are)."""
    if isinstance(schema, list):
        return [openai_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: openai_schema(sub) for name, sub in value.items()}
        elif key not in _NOT_IN_OPENAI_SUBSET:
            out[key] = openai_schema(value)
    return out


def response_format_kwargs(schema: dict[str, Any] | None, *, openai_subset: bool = False) -> dict[str, Any]:
    """`response_format` for a request with a JSON schema: strict structured outputs (OpenAI, vLLM's server, and
    the compatible servers that follow them); nothing for free-text requests, so plain chat servers keep working.
    `openai_subset` (OpenAI's own API) drops what its strict mode does not list; other servers get the whole schema."""
    if schema is None:
        return {}
    # The name is required, [A-Za-z0-9_-]{1,64}; the schema's own title names it when it has one.
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(schema.get("title") or "response"))[:64]
    sent = openai_schema(schema) if openai_subset else schema
    return {"response_format": {"type": "json_schema", "json_schema": {"name": name, "schema": sent, "strict": True}}}


class RateLimiter:
    """Requests-per-minute and tokens-per-minute token buckets; `acquire` waits until both have room."""

    def __init__(self, rpm: int | None, tpm: int | None) -> None:
        self.rpm, self.tpm = rpm, tpm
        self.requests = float(rpm or 0)
        self.tokens = float(tpm or 0)
        self.updated = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        elapsed, self.updated = now - self.updated, now
        if self.rpm:
            self.requests = min(self.rpm, self.requests + elapsed * self.rpm / 60)
        if self.tpm:
            self.tokens = min(self.tpm, self.tokens + elapsed * self.tpm / 60)

    async def acquire(self, lock: asyncio.Lock, tokens: int) -> None:
        if not (self.rpm or self.tpm):
            return
        async with lock:  # one waiter at a time keeps the buckets consistent and the order fair
            while True:
                self._refill()
                need_r = 1 - self.requests if self.rpm else 0
                need_t = min(tokens, self.tpm or 0) - self.tokens if self.tpm else 0
                if need_r <= 0 and need_t <= 0:
                    if self.rpm:
                        self.requests -= 1
                    if self.tpm:
                        self.tokens -= min(tokens, self.tpm)
                    return
                wait = max(need_r * 60 / self.rpm if self.rpm else 0, need_t * 60 / self.tpm if self.tpm else 0)
                await asyncio.sleep(wait)


def api_key(cfg: TeacherSection) -> str:
    """The key from the env var `teacher.api_key_env`; required for OpenAI itself (no base_url)."""
    key = os.environ.get(cfg.api_key_env)
    if not key and cfg.base_url is None:
        raise ConfigError(
            f"teacher.backend={cfg.backend}: set the API key in the environment variable {cfg.api_key_env} "
            "(teacher.api_key_env)"
        )
    # Self-hosted servers often need no key; the client insists on one, so a placeholder stands in.
    return key or "EMPTY"


class OpenAITeacher:
    backend = "openai"

    def __init__(self, cfg: TeacherSection) -> None:
        self.cfg = cfg
        self.model = cfg.model
        self._key = api_key(cfg)
        self.limiter = RateLimiter(cfg.requests_per_minute, cfg.tokens_per_minute)
        self.retries_left = cfg.retry_budget
        self.last_retryable_error: str | None = None

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key != "EMPTY" else text

    def generate(self, requests: Sequence[TeacherRequest]) -> list[TeacherResult]:
        results = asyncio.run(self._generate_all(requests))
        if self.retries_left <= 0 and self.cfg.retry_budget > 0 and any(r.error for r in results):
            raise TeacherUnavailableError(
                f"{self.cfg.base_url or 'OpenAI'}: retry budget of {self.cfg.retry_budget} exhausted; last error: "
                f"{self.last_retryable_error}. "
                "Finished batches are kept; rerun the same command to resume."
            )
        return results

    async def _generate_all(self, requests: Sequence[TeacherRequest]) -> list[TeacherResult]:
        import openai

        client = openai.AsyncOpenAI(
            base_url=self.cfg.base_url, api_key=self._key, max_retries=0, timeout=self.cfg.timeout_s
        )
        gate = asyncio.Semaphore(self.cfg.max_concurrency)
        lock = asyncio.Lock()
        try:
            return list(await asyncio.gather(*(self._one(client, gate, lock, r) for r in requests)))
        finally:
            await client.close()

    async def _one(
        self, client: Any, gate: asyncio.Semaphore, lock: asyncio.Lock, req: TeacherRequest
    ) -> TeacherResult:
        from tenacity import (
            AsyncRetrying,
            RetryCallState,
            retry_if_exception,
            stop_after_attempt,
            wait_exponential_jitter,
        )

        backoff = wait_exponential_jitter(initial=0.5, max=self.cfg.max_retry_wait_s, jitter=0.5)

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            asked = retry_after_s(exc) if exc is not None else None
            return min(asked, self.cfg.max_retry_wait_s) if asked is not None else backoff(state)

        def should_retry(exc: BaseException) -> bool:
            if not is_retryable(exc):
                return False
            self.last_retryable_error = self._redact(f"{type(exc).__name__}: {exc}")[:300]
            if self.retries_left <= 0:
                return False
            self.retries_left -= 1
            return True

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.info(
                "request %s: %s; retry %d in %.1fs",
                req.id,
                type(exc).__name__,
                state.attempt_number,
                state.next_action.sleep if state.next_action else 0,
            )

        prompt_estimate = sum(len(m["content"]) for m in req.messages) // 4 + req.sampling.max_tokens
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.cfg.max_retries + 1),
                wait=wait,
                retry=retry_if_exception(should_retry),
                before_sleep=before_sleep,
                reraise=True,
            ):
                with attempt:
                    await self.limiter.acquire(lock, prompt_estimate)
                    async with gate:
                        response = await client.chat.completions.create(
                            model=self.cfg.model,
                            messages=req.messages,
                            temperature=req.sampling.temperature,
                            top_p=req.sampling.top_p,
                            max_tokens=req.sampling.max_tokens,
                            seed=req.sampling.seed,
                            **response_format_kwargs(req.response_schema, openai_subset=on_openai(self.cfg)),
                        )
            return self._result(req, response)
        except Exception as exc:  # every final failure is this request's error, never the batch's
            return failed(req, self._redact(f"{type(exc).__name__}: {exc}")[:500])

    def _result(self, req: TeacherRequest, response: Any) -> TeacherResult:
        try:
            choice = response.choices[0]
            text = choice.message.content
            usage = getattr(response, "usage", None)
            return TeacherResult(
                id=req.id,
                text=text,
                finish_reason=choice.finish_reason,
                prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                error=None if text is not None else "bad_response: no message content",
                # the server's prompt cache (OpenAI caches prompts of 1,024+ tokens; vLLM's server reports its prefix
                # cache)
                cached_prompt_tokens=int(
                    getattr(getattr(usage, "prompt_tokens_details", None), "cached_tokens", 0) or 0
                ),
            )
        except (AttributeError, IndexError, TypeError, ValueError) as exc:
            return failed(req, f"bad_response: {type(exc).__name__}: {str(exc)[:200]}")

    def close(self) -> None:
        pass
