"""Training progress a driver can watch: rank 0 writes `progress.json` after each optimizer step, and the stage that
launched the ranks (local subprocesses or Ray Train workers) polls it into `distill.progress.report`.

A file rather than a pipe: it works the same for subprocess ranks and Ray Train workers on this node, and what it
says survives a crash for whoever looks next.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from distill.atomic import atomic_write_json
from distill.progress import report

PROGRESS = "progress.json"
POLL_S = 1.0


def write_progress(root: Path, step: int, total: int, loss: float) -> None:
    atomic_write_json(root / PROGRESS, {"step": step, "total": total, "loss": round(loss, 6)})


@contextmanager
def watch_progress(root: Path) -> Iterator[None]:
    """While the block runs, report every new step rank 0 wrote under `root` (as stage "train", unit "steps")."""
    stop = threading.Event()

    def poll() -> None:
        last = None
        while not stop.wait(POLL_S):
            try:
                state = json.loads((root / PROGRESS).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # not written yet
            if state != last:
                last = state
                report("train", int(state["step"]), int(state["total"]), unit="steps", loss=float(state["loss"]))

    watcher = threading.Thread(target=poll, name="train-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join(timeout=5)
