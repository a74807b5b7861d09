"""OpenAI Batch API teacher (`teacher.backend: openai_batch`): each `generate` call becomes batch files, at half the
price.

One call is one round of one unit batch's live episodes (the generate stage's turn-by-turn loop): its requests are
written as batch JSONL (`openai_batch_lines`), split under `teacher.batch_max_requests` / `batch_max_bytes`, uploaded
with `purpose="batch"`, submitted with a 24 h window, polled with exponential backoff, and their output and error
files matched back by `custom_id`. Every step is recorded in the run folder first (`openai_batch_journal`), so a
killed driver resumes polling the batches it paid for and never submits a request twice; a replayed round is answered
from the record. Expired and failed batches and retryable line errors (429, 5xx) are resubmitted up to
`batch_max_resubmits` times per request, then become that request's error (a reject upstream); cancelled batches and
other line errors are final at once. HTTP calls to the files and batches endpoints retry on 429/5xx/timeouts with the
synchronous backend's rules. The key is read from `teacher.api_key_env` and never logged, stored or put in an error.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from distill.config import TeacherSection
from distill.errors import ConfigError
from distill.teachers.base import TeacherRequest, TeacherResult
from distill.teachers.openai_backend import TeacherUnavailableError, api_key, is_retryable, retry_after_s
from distill.teachers.openai_batch_journal import BatchJournal, CallRecord
from distill.teachers.openai_batch_lines import (
    COMPLETION_WINDOW,
    ENDPOINT,
    line_digest,
    parse_result_line,
    request_line,
    split_lines,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
TERMINAL = ("completed", "expired", "cancelled", "failed")
_CLOCK_SLACK_S = 3600  # our clock vs the service's, when deciding a listed batch is older than our record
TOKEN_KEY = (
    "distill_submission"  # batch metadata naming the journal's submission, so a lost batch id can be found again
)


class OpenAIBatchTeacher:
    backend = "openai_batch"
    # A call waits on a batch for minutes to hours: the local pool runs max_in_flight_per_actor unit batches at once.
    serves_batches_concurrently = True

    def __init__(self, cfg: TeacherSection) -> None:
        import openai

        if not cfg.batch_dir:
            raise ConfigError(
                "teacher.backend=openai_batch keeps its batch ids in the run folder: run it through a stage, or set "
                "teacher.batch_dir"
            )
        self.cfg = cfg
        self.model = cfg.model
        self._key = api_key(cfg)
        self.journal = BatchJournal(Path(cfg.batch_dir))
        self.client = openai.OpenAI(base_url=cfg.base_url, api_key=self._key, max_retries=0, timeout=cfg.timeout_s)

    # -- the Teacher protocol ------------------------------------------------------------------
    def generate(self, requests: Sequence[TeacherRequest]) -> list[TeacherResult]:
        lines = {r.id: request_line(self.cfg, r) for r in requests}
        if len(lines) != len(requests):
            raise RuntimeError("openai_batch: request ids in one call must be unique (they are the batch custom_ids)")
        digests = {rid: line_digest(line) for rid, line in lines.items()}
        answers: dict[str, TeacherResult] = {}
        for rid, digest in digests.items():
            if (found := self.journal.imported(rid, digest)) is not None:
                answers[rid] = found
        rest = {rid: d for rid, d in digests.items() if rid not in answers}
        if rest:
            call = self.journal.open_call(rest)
            self._complete(call, lines)
            answers.update({rid: call.result(rid) for rid in rest})
        return [answers[r.id] for r in requests]

    def close(self) -> None:
        self.client.close()

    # -- one call, submission by submission ----------------------------------------------------
    def _complete(self, call: CallRecord, lines: dict[str, bytes]) -> None:
        for sub in call.live():
            if sub["state"] == "submitting":
                self._recover(call, sub)
        while not call.complete:
            self._give_up_exhausted(call)
            for rid in call.waiting():  # no file can carry it: this unit's reject, not the stage's failure
                if len(lines[rid]) > self.cfg.batch_max_bytes:
                    call.set_result(
                        rid,
                        _error(
                            rid,
                            f"request_too_large: {len(lines[rid])} bytes > "
                            f"teacher.batch_max_bytes={self.cfg.batch_max_bytes}",
                        ),
                    )
                    call.counters["batch_api/requests_too_large"] += 1
            waiting = call.waiting()
            if waiting:
                chunks = split_lines(
                    ((rid, lines[rid]) for rid in waiting), self.cfg.batch_max_requests, self.cfg.batch_max_bytes
                )
                for chunk in chunks:
                    self._submit(call, chunk)
            if call.live():
                self._poll_until_one_finishes(call)
        call.save()  # a replayed call rewrites its counters: a kill between the record and its counters loses none

    def _give_up_exhausted(self, call: CallRecord) -> None:
        """A request that waited through 1 + batch_max_resubmits submissions ends as its error (a counted reject)."""
        for rid in call.waiting():
            if call.attempts[rid] > self.cfg.batch_max_resubmits:
                why = call.last_retry.get(rid, "no answer")
                call.set_result(rid, _error(rid, f"batch_gave_up: {call.attempts[rid]} submissions, last: {why}"))
                call.counters["batch_api/requests_given_up"] += 1
        call.save()

    def _submit(self, call: CallRecord, chunk: list[tuple[str, bytes]]) -> None:
        token = uuid.uuid4().hex
        data = b"".join(line for _, line in chunk)
        uploaded = self._http(
            lambda: self.client.files.create(file=(f"{token}.jsonl", data, "application/jsonl"), purpose="batch")
        )
        ids = [rid for rid, _ in chunk]
        resubmitted = sum(1 for rid in ids if call.attempts[rid] > 0)
        sub: dict[str, Any] = {
            "token": token,
            "state": "submitting",
            "input_file_id": uploaded.id,
            "batch_id": None,
            "request_ids": ids,
            "recorded_at": int(time.time()),
        }
        call.submissions.append(sub)
        call.attempts.update(ids)
        call.counters["batch_api/files_uploaded"] += 1
        call.counters["batch_api/bytes_uploaded"] += len(data)
        call.save()  # before create: a driver killed now finds its batch by the token, never creates a second one
        batch = self._create(token, uploaded.id, sub["recorded_at"])
        sub.update(state="submitted", batch_id=batch.id)
        call.counters["batch_api/batches_submitted"] += 1
        call.counters["batch_api/lines_submitted"] += len(ids)
        call.counters["batch_api/lines_resubmitted"] += resubmitted
        call.save()
        log.info("batch %s submitted: %d requests, %d bytes", batch.id, len(ids), len(data))

    def _create(self, token: str, file_id: str, since: int) -> Any:
        """`batches.create`; a retryable failure may still have created it, so look for the token before trying
        again."""
        for attempt in range(self.cfg.max_retries + 1):
            try:
                return self.client.batches.create(
                    input_file_id=file_id,
                    endpoint=ENDPOINT,
                    completion_window=COMPLETION_WINDOW,
                    metadata={TOKEN_KEY: token},
                )
            except Exception as exc:
                if not is_retryable(exc) or attempt == self.cfg.max_retries:
                    raise self._unavailable("batches.create", exc) from None
                time.sleep(self._backoff_s(exc, attempt))
                if (found := self._find_by_token(token, since)) is not None:
                    return found
        raise AssertionError("unreachable")

    def _recover(self, call: CallRecord, sub: dict[str, Any]) -> None:
        """A submission recorded just before `batches.create`: adopt the batch carrying its token, or void it."""
        found = self._find_by_token(sub["token"], int(sub.get("recorded_at", 0)))
        if found is not None:
            sub.update(state="submitted", batch_id=found.id)
            call.counters["batch_api/batches_submitted"] += 1
            call.counters["batch_api/lines_submitted"] += len(sub["request_ids"])
            call.counters["batch_api/lines_resubmitted"] += sum(
                1 for rid in sub["request_ids"] if call.attempts[rid] > 1
            )
            log.info("batch %s found by its token after a restart", found.id)
        else:
            sub["state"] = "void"  # never created: its requests are sent again, and that is not a resubmission
            call.attempts.subtract(sub["request_ids"])
        call.save()

    def _find_by_token(self, token: str, since: int) -> Any | None:
        """The batch carrying `token`, among those created since the submission was recorded (newest first, so the
        scan stops at the first older one instead of paging through the organisation's whole history)."""

        def scan() -> Any | None:
            for b in self.client.batches.list(limit=100):
                if (b.metadata or {}).get(TOKEN_KEY) == token:
                    return b
                if b.created_at < since - _CLOCK_SLACK_S:
                    return None
            return None

        return self._http(scan)

    def _poll_until_one_finishes(self, call: CallRecord) -> None:
        """Poll the call's live batches with exponential backoff until at least one is terminal, then read those."""
        from tenacity import Retrying, retry_if_result, stop_never, wait_exponential_jitter

        def finished_now() -> list[tuple[dict[str, Any], Any]]:
            done = []
            for sub in call.live():
                batch = self._http(lambda: self.client.batches.retrieve(sub["batch_id"]))
                if batch.status in TERMINAL:
                    done.append((sub, batch))
            return done

        wait = wait_exponential_jitter(
            initial=self.cfg.batch_poll_initial_s, max=self.cfg.batch_poll_max_s, jitter=self.cfg.batch_poll_initial_s
        )
        retrying = Retrying(retry=retry_if_result(lambda done: not done), wait=wait, stop=stop_never, reraise=True)
        for sub, batch in retrying(finished_now):
            self._read(call, sub, batch)

    def _read(self, call: CallRecord, sub: dict[str, Any], batch: Any) -> None:
        """A terminal batch's output and error files -> final results and retryable lines; recorded in one write."""
        c = call.counters
        c[f"batch_api/batches_{batch.status}"] += 1
        mine = set(sub["request_ids"])
        seen: set[str] = set()
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            text = self._http(lambda: self.client.files.content(file_id).text)
            for raw in text.splitlines():
                if not raw.strip():
                    continue
                try:
                    outcome = parse_result_line(raw)
                except ValueError as exc:
                    c["batch_api/lines_unreadable"] += 1
                    log.warning("batch %s: unreadable result line (%s)", batch.id, str(exc)[:200])
                    continue
                rid = outcome.custom_id
                if rid not in mine or rid in seen:
                    c["batch_api/lines_unexpected"] += 1  # not asked in this batch, or answered twice: the first counts
                    continue
                seen.add(rid)
                if outcome.result is not None:
                    call.set_result(rid, outcome.result)
                    c["batch_api/lines_failed" if outcome.result.error else "batch_api/lines_answered"] += 1
                else:
                    call.last_retry[rid] = outcome.retry or "retry"
                    c["batch_api/lines_retry"] += 1
        for rid in sorted(mine - seen):  # no line at all: an expired or failed batch, or a line the service dropped
            if batch.status == "cancelled":
                call.set_result(rid, _error(rid, "batch_line_error: batch_cancelled: the batch was cancelled"))
                c["batch_api/lines_failed"] += 1
            else:
                call.last_retry[rid] = f"batch_{batch.status}: {_batch_errors(batch)}"[:500]
                c["batch_api/lines_retry"] += 1
        sub.update(state="finished", status=batch.status)
        call.save()
        log.info("batch %s %s: %d of %d lines answered", batch.id, batch.status, len(seen), len(mine))

    # -- HTTP with the synchronous backend's retry rules ---------------------------------------
    def _http(self, fn: Callable[[], T]) -> T:
        for attempt in range(self.cfg.max_retries + 1):
            try:
                return fn()
            except Exception as exc:
                if not is_retryable(exc) or attempt == self.cfg.max_retries:
                    raise self._unavailable("batch API", exc) from None
                time.sleep(self._backoff_s(exc, attempt))
        raise AssertionError("unreachable")

    def _backoff_s(self, exc: BaseException, attempt: int) -> float:
        asked = retry_after_s(exc)
        return min(asked if asked is not None else 0.5 * 2**attempt, self.cfg.max_retry_wait_s)

    def _unavailable(self, what: str, exc: BaseException) -> TeacherUnavailableError:
        detail = f"{type(exc).__name__}: {exc}"
        if self._key != "EMPTY":
            detail = detail.replace(self._key, "***")
        return TeacherUnavailableError(
            f"{self.cfg.base_url or 'OpenAI'} {what}: {detail[:300]}. Submitted batches are recorded in "
            f"{self.cfg.batch_dir}; "
            "rerun the same command to resume polling them."
        )


def _error(rid: str, detail: str) -> TeacherResult:
    return TeacherResult(id=rid, text=None, finish_reason=None, error=detail[:500])


def _batch_errors(batch: Any) -> str:
    errors = getattr(getattr(batch, "errors", None), "data", None) or []
    return "; ".join(f"{getattr(e, 'code', '')}: {getattr(e, 'message', '')}" for e in errors[:3]) or "no answer"
