"""The OpenAI backend's pure pieces: Retry-After parsing, what is retryable, and the requests/tokens-per-minute
limiter."""

from __future__ import annotations

import asyncio
import email.utils
import time

import httpx
import openai
import pytest

from distill.teachers.openai_backend import RateLimiter, is_retryable, retry_after_s


def status_error(status: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(status, headers=headers or {}, request=request)
    cls = {
        429: openai.RateLimitError,
        500: openai.InternalServerError,
        400: openai.BadRequestError,
        401: openai.AuthenticationError,
    }.get(status, openai.APIStatusError)
    return cls("x", response=response, body=None)


def test_retry_after_seconds_ms_and_http_date():
    assert retry_after_s(status_error(429, {"Retry-After": "3"})) == 3.0
    assert retry_after_s(status_error(429, {"retry-after-ms": "250"})) == 0.25
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.5 < retry_after_s(status_error(503, {"Retry-After": when})) <= 5.0
    assert retry_after_s(status_error(429)) is None
    assert retry_after_s(ValueError("no response")) is None


@pytest.mark.parametrize(
    ("status", "retry"), [(429, True), (500, True), (503, True), (400, False), (401, False), (404, False)]
)
def test_only_429_and_5xx_statuses_are_retried(status, retry):
    assert is_retryable(status_error(status)) is retry


def test_timeouts_and_connection_errors_are_retried_other_errors_not():
    request = httpx.Request("POST", "http://127.0.0.1/")
    assert is_retryable(openai.APITimeoutError(request=request))
    assert is_retryable(openai.APIConnectionError(request=request))
    assert not is_retryable(ValueError("garbage"))


def test_requests_per_minute_limit_spaces_requests_once_the_bucket_is_empty():
    limiter = RateLimiter(rpm=120, tpm=None)  # 2 per second after a burst of 120

    async def go() -> float:
        lock = asyncio.Lock()
        for _ in range(120):
            await limiter.acquire(lock, 1)
        start = time.monotonic()
        await limiter.acquire(lock, 1)
        await limiter.acquire(lock, 1)
        return time.monotonic() - start

    assert asyncio.run(go()) >= 0.9


def test_tokens_per_minute_limit_waits_for_tokens():
    limiter = RateLimiter(rpm=None, tpm=600)  # 10 tokens per second

    async def go() -> float:
        lock = asyncio.Lock()
        await limiter.acquire(lock, 595)
        start = time.monotonic()
        await limiter.acquire(lock, 10)  # needs ~5 more tokens: ~0.5 s
        return time.monotonic() - start

    assert 0.4 <= asyncio.run(go()) < 3
