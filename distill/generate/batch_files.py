"""`distill generate --export-requests FILE` / `--import-results FILE`: the generate stage through any batch runner.

Generation is turn by turn, and a turn's prompt holds the turns before it, so a run cannot be exported whole: each
export writes the requests the episodes need *next* (round 0 on a fresh run) as OpenAI batch JSONL, and each import of
their results advances every episode one round. Repeat export -> run -> import until the import says the stage is done
(`style: whole` needs one round). Both replay every unfinished unit batch with a teacher that answers only from the
answers the run has so far (`ImportedAnswers`), so ids, seeds and accounting are those of a normal run: a unit batch
whose
episodes all ended is written and marked exactly as the stage writes it, and the same answers serve `distill generate`
with `teacher.backend: openai_batch` if the user switches back to the API.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from distill.config import RunConfig, TeacherSection
from distill.errors import ConfigError, InputError
from distill.generate.plan import UnitBatch
from distill.generate.resume import done_batches
from distill.generate.runner import ensure_plan, planned_batches, summarize, write_batch
from distill.generate.synthesize import TeacherInfo, synthesize
from distill.run_dir import RunDir
from distill.shards import clear_prefix
from distill.stages import GENERATE, claimed, finish
from distill.stats import StageStats
from distill.teachers.base import TeacherRequest, TeacherResult
from distill.teachers.openai_batch_journal import BatchJournal
from distill.teachers.openai_batch_lines import line_digest, parse_result_line, request_line, split_lines

log = logging.getLogger(__name__)


class _Unanswered(Exception):
    """This round of the unit batch has requests nobody has answered yet."""

    def __init__(self, requests: list[TeacherRequest]) -> None:
        super().__init__(f"{len(requests)} requests wait for an answer")
        self.requests = requests


class _InFlight(Exception):
    """This round of the unit batch was submitted by the API backend (`distill generate`) and is not answered yet."""

    def __init__(self, n: int) -> None:
        super().__init__(f"{n} requests are in batches already submitted")
        self.n = n


class ImportedAnswers:
    """A Teacher that answers from what the run already has (imported results, or rounds the API backend finished), and
    stops a unit batch at its first round nobody answered; a round in the API backend's batches is never exported."""

    backend = "openai_batch"

    def __init__(self, journal: BatchJournal, teacher: TeacherSection) -> None:
        self.journal, self.teacher, self.model = journal, teacher, teacher.model

    def generate(self, requests: Sequence[TeacherRequest]) -> list[TeacherResult]:
        digests = {r.id: line_digest(request_line(self.teacher, r)) for r in requests}
        answers = {r.id: a for r in requests if (a := self.journal.imported(r.id, digests[r.id])) is not None}
        rest = {rid: d for rid, d in digests.items() if rid not in answers}
        if rest:
            call = self.journal.find_call(rest)
            if call is None:
                raise _Unanswered([r for r in requests if r.id in rest])
            if not call.complete:
                raise _InFlight(len(rest))
            answers.update({rid: call.result(rid) for rid in rest})
        return [answers[r.id] for r in requests]

    def close(self) -> None:
        pass


@dataclass
class Advance:
    """Where the episodes stand after replaying the imported answers."""

    batches_written: int = 0
    batches_done: int = 0
    batches_planned: int = 0
    stats: StageStats | None = None  # set once every unit batch is done (the stage is finished)
    waiting: dict[str, TeacherRequest] = field(default_factory=dict)  # request id -> the request its episode needs next
    in_flight: int = 0  # requests in batches `distill generate` submitted and has not collected: not exported


def _journal(cfg: RunConfig) -> BatchJournal:
    if cfg.teacher.backend != "openai_batch" or not cfg.teacher.batch_dir:
        raise ConfigError(
            f"--export-requests / --import-results need teacher.backend=openai_batch (got {cfg.teacher.backend!r}): "
            "its model and run folder make the ids"
        )
    return BatchJournal(Path(cfg.teacher.batch_dir))


def advance(cfg: RunConfig, *, write: bool) -> Advance:
    """Replay every unfinished unit batch on the imported answers; with `write`, write those whose episodes all
    ended."""
    with claimed(GENERATE, cfg) as claim:
        # A finished stage is replayed too: every batch is done, so nothing is written and its stats are rebuilt.
        return _advance(cfg, claim or RunDir(cfg), write=write)


def _advance(cfg: RunConfig, run: RunDir, *, write: bool) -> Advance:
    seeds = run.seeds
    plan = ensure_plan(run, cfg, seeds)
    teacher = ImportedAnswers(_journal(cfg), cfg.teacher)
    info = TeacherInfo(model=cfg.teacher.model, revision=cfg.teacher.revision, backend=cfg.teacher.backend)
    finished = done_batches(run.generated)
    state = Advance(batches_done=len(finished), batches_planned=plan.get("batches", 0))
    for batch in _unfinished(cfg, seeds, finished):
        try:
            outcome = synthesize(teacher, batch.units, cfg.generate, info)
        except _Unanswered as wait:
            state.waiting.update((r.id, r) for r in wait.requests)
            continue
        except _InFlight as busy:
            state.in_flight += busy.n
            continue
        if write:
            clear_prefix(run.generated, batch.name)
            clear_prefix(run.rejects(GENERATE.name), batch.name)
            write_batch(run, batch, outcome)
            state.batches_written += 1
            state.batches_done += 1
    if write and state.batches_done == state.batches_planned:
        state.stats = finish(GENERATE, run, summarize(run, cfg, plan, Counter(), 0.0, 0.0, 0.0))
    return state


def _unfinished(cfg: RunConfig, seeds: Path, finished: dict[str, object]) -> Iterator[UnitBatch]:
    for item in planned_batches(cfg, seeds):
        if not isinstance(item, dict) and item.name not in finished:
            yield item


def export_requests(cfg: RunConfig, out: Path) -> tuple[list[Path], Advance]:
    """The requests the episodes need next, as batch JSONL: `out`, or past the batch limits <stem>-001<suffix>, -002,
    ..."""
    state = advance(cfg, write=True)  # results imported earlier may have finished some unit batches
    t = cfg.teacher
    lines = ((rid, request_line(t, req)) for rid, req in state.waiting.items())
    chunks = list(split_lines(lines, t.batch_max_requests, t.batch_max_bytes))
    paths = (
        [out]
        if len(chunks) <= 1
        else [out.with_name(f"{out.stem}-{i:03d}{out.suffix}") for i in range(1, len(chunks) + 1)]
    )
    for path, chunk in zip(paths, chunks):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(line for _, line in chunk))
    return (paths if chunks else []), state


def import_results(cfg: RunConfig, results: Path) -> tuple[Counter[str], Advance]:
    """Answers for the waiting requests from a batch output (or error) file; then every unit batch that ended is
    written."""
    try:
        data = results.read_bytes()
    except OSError as exc:
        raise InputError(f"{results}: cannot read ({exc.strerror})") from None
    waiting = advance(cfg, write=False).waiting
    digests = {rid: line_digest(request_line(cfg.teacher, req)) for rid, req in waiting.items()}
    counts: Counter[str] = Counter()
    answers: dict[str, tuple[str, TeacherResult]] = {}
    for n, raw in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if not raw.strip():
            continue
        counts["batch_api/import_lines"] += 1
        try:
            outcome = parse_result_line(raw)
        except ValueError as exc:
            raise InputError(f"{results}:{n}: not a batch result line ({str(exc)[:120]})") from None
        rid = outcome.custom_id
        if rid not in digests or rid in answers:
            counts["batch_api/import_not_waiting" if rid not in digests else "batch_api/import_duplicate"] += 1
            continue
        if outcome.result is None:
            counts["batch_api/import_retry"] += 1  # expired / 429 / 5xx: it stays waiting and is exported again
            continue
        answers[rid] = (digests[rid], outcome.result)
        counts["batch_api/import_failed" if outcome.result.error else "batch_api/import_answered"] += 1
    if answers:
        name = hashlib.sha256(data).hexdigest()[:16]  # the same file imported twice is one import
        _journal(cfg).add_imported(name, answers, counts)
    log.info("imported %d answers from %s", len(answers), results)
    return counts, advance(cfg, write=True)
