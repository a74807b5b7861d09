"""The Batch API's state in the run folder: which batches a teacher call paid for, and the answers they brought back.

A *call* is one `Teacher.generate` of the generate stage: one round of one unit batch's live episodes. Its record
`calls/<key>.json` (key = hash of its request ids and line digests, so a resumed run that replays the same round finds
it) is rewritten atomically (temp + rename) at every step of each submission:

    submitting  the input file is uploaded and a token chosen; written *before* `batches.create`, which carries the
    token
                in its metadata, so a driver killed between the two finds the batch by its token instead of paying again
    submitted   the batch id is known: a resumed run polls it
    finished    its output and error files were read: answers and final failures are in `results`, retryable lines wait
                for the next submission (each request may be submitted 1 + teacher.batch_max_resubmits times)
    void        a `submitting` step whose batch was never created (no batch carries its token)

Answers brought back by `distill generate --import-results` live in `imported/*.json`, keyed by request id and line
digest. Each record's counters are also written to `counters/` after it, and `journal_counters` sums those for
stats/generate.json (a call whose record is complete is saved again when it is replayed, so they catch up after a kill).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill.atomic import atomic_write_json
from distill.errors import InputError
from distill.teachers.base import TeacherResult
from distill.teachers.openai_batch_lines import result_from_json, result_to_json

LIVE = ("submitting", "submitted")


def call_key(digests: dict[str, str]) -> str:
    text = "\n".join(f"{rid}\t{d}" for rid, d in sorted(digests.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass
class CallRecord:
    path: Path
    requests: dict[str, str]  # request id -> line digest
    submissions: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # request id -> result json (final)
    attempts: Counter[str] = field(default_factory=Counter)  # request id -> submissions that carried it
    last_retry: dict[str, str] = field(default_factory=dict)  # request id -> why its last submission did not answer it
    counters: Counter[str] = field(default_factory=Counter)

    @property
    def complete(self) -> bool:
        return len(self.results) == len(self.requests)

    def live(self) -> list[dict[str, Any]]:
        return [s for s in self.submissions if s["state"] in LIVE]

    def waiting(self) -> list[str]:
        """Requests with no final result and in no live submission: the next submission's lines."""
        carried = {rid for s in self.live() for rid in s["request_ids"]}
        return [rid for rid in self.requests if rid not in self.results and rid not in carried]

    def result(self, rid: str) -> TeacherResult:
        return result_from_json(rid, self.results[rid])

    def set_result(self, rid: str, result: TeacherResult) -> None:
        self.results[rid] = result_to_json(result)

    def save(self) -> None:
        """The record, then its counters beside it (`journal_counters` reads only those, not every answer)."""
        atomic_write_json(
            self.path,
            {
                "requests": self.requests,
                "submissions": self.submissions,
                "results": self.results,
                "attempts": dict(self.attempts),
                "last_retry": self.last_retry,
                "counters": dict(self.counters),
            },
        )
        atomic_write_json(self.path.parent.parent / "counters" / f"call-{self.path.stem}.json", dict(self.counters))


class BatchJournal:
    """The folder `teacher.batch_dir` (default `<run folder>/teacher_batches`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.Lock()
        self._imported: dict[str, tuple[str, dict[str, Any]]] | None = None

    def find_call(self, digests: dict[str, str]) -> CallRecord | None:
        """The record of a call with exactly these requests, if the API backend made one."""
        return self.open_call(digests) if self._call_path(digests).exists() else None

    def _call_path(self, digests: dict[str, str]) -> Path:
        return self.folder / "calls" / f"{call_key(digests)}.json"

    def open_call(self, digests: dict[str, str]) -> CallRecord:
        path = self._call_path(digests)
        if not path.exists():
            return CallRecord(path, dict(digests))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return CallRecord(
                path,
                data["requests"],
                data["submissions"],
                data["results"],
                Counter(data["attempts"]),
                data["last_retry"],
                Counter(data["counters"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Never guess here: removing the record could mean paying again for batches it names.
            raise InputError(
                f"{path}: unreadable batch record ({type(exc).__name__}: {exc}); it names batches already paid for"
            ) from None

    # -- answers brought in from outside (`--import-results`) -----------------------------------
    def imported(self, rid: str, digest: str) -> TeacherResult | None:
        with self.lock:
            if self._imported is None:
                self._imported = {}
                for path in sorted((self.folder / "imported").glob("*.json")):
                    for key, row in json.loads(path.read_text(encoding="utf-8"))["results"].items():
                        self._imported[key] = (row.pop("digest"), row)
        found = self._imported.get(rid)
        if found is None or found[0] != digest:
            return None
        return result_from_json(rid, dict(found[1]))

    def add_imported(self, name: str, results: dict[str, tuple[str, TeacherResult]], counters: Counter[str]) -> Path:
        """One imported file's answers (request id -> (line digest, result)), written whole or not at all."""
        path = self.folder / "imported" / f"{name}.json"
        rows = {rid: {"digest": d, **result_to_json(r)} for rid, (d, r) in results.items()}
        atomic_write_json(path, {"results": rows, "counters": dict(counters)})
        atomic_write_json(self.folder / "counters" / f"imported-{name}.json", dict(counters))
        with self.lock:
            self._imported = None
        return path


def journal_counters(folder: Path) -> Counter[str]:
    """Every call's and import's counters, summed (what the Batch API did for this run, over every invocation). They
    are read from the small `counters/` files, not the records, which hold every answer."""
    total: Counter[str] = Counter()
    for path in sorted((folder / "counters").glob("*.json")):
        total.update(json.loads(path.read_text(encoding="utf-8")))
    return total
