"""Stage progress for whoever watches a run: stages call `report(...)`, a command line installs a display with
`reporting(...)`.

A process-wide hook rather than a parameter of every stage function: a stage reports from worker threads and
helper loops alike, and a library call without a display installed costs one global lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Update:
    """`done` of `total` `unit`s (total None while unknown), with running counts such as rejects or tokens."""

    stage: str
    done: int
    total: int | None = None
    unit: str = "units"
    counts: Mapping[str, float] = field(default_factory=dict)


Reporter = Callable[[Update], None]
_lock = threading.Lock()
_reporter: Reporter | None = None


def report(stage: str, done: int, total: int | None = None, *, unit: str = "units", **counts: float) -> None:
    reporter = _reporter
    if reporter is not None:
        reporter(Update(stage, int(done), None if total is None else int(total), unit, counts))


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Send every `report` in this process to `reporter` until the block ends (the previous one comes back after)."""
    global _reporter
    with _lock:
        previous, _reporter = _reporter, reporter
    try:
        yield
    finally:
        with _lock:
            _reporter = previous
