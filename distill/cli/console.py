"""The quiet console of a run: our progress and summaries on the terminal, everything else in `<run>/logs/<stage>.log`.

Engines (vLLM, Ray, DeepSpeed, torch) print from C++, from subprocesses and from Ray actors whose output Ray forwards
to the driver, so a logging filter cannot catch it all. The console therefore moves the process's own stdout and
stderr file descriptors onto the stage's log file (children inherit them) and keeps a duplicate of the terminal for
itself. `--verbose` leaves the descriptors alone. Warnings our own code logs still reach the terminal, once each.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from distill.progress import Update, reporting

# Loggers whose warnings are the user's business (a fallback taken, a surge of rejects); engines' warnings are not.
T = TypeVar("T")
USER_LOGGERS = ("distill", "train", "ray_jobs")
LINE_INTERVAL_S = 30.0  # without a terminal (CI, `ray job logs`), one progress line per stage at most this often


class _DescriptorCapture:
    """stdout and stderr (the descriptors, so C code and child processes follow) pointed at a file, or restored."""

    def __init__(self) -> None:
        self.saved: tuple[int, int] | None = None

    def point_at(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _flush_std()
        if self.saved is None:
            self.saved = (os.dup(1), os.dup(2))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.dup2(fd, 1)
            os.dup2(fd, 2)
        finally:
            os.close(fd)

    def restore(self) -> None:
        if self.saved is None:
            return
        _flush_std()
        out, err = self.saved
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(out)
        os.close(err)
        self.saved = None


def _terminal_stream() -> tuple[io.TextIOBase, bool]:
    """Where our lines go: a private duplicate of the terminal taken before the descriptors move (line buffered), or
    sys.stdout itself when it is a Python-level stream with no descriptor (a notebook, a test's capture)."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError and a ValueError
        return sys.stdout, False
    raw = os.fdopen(os.dup(fd), "wb", buffering=0)
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", line_buffering=True), True


def _flush_std() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


class _UserWarnings(logging.Handler):
    """Our own WARNING+ records on the terminal, each distinct message once (the log file still gets every one)."""

    def __init__(self, console: RunConsole) -> None:
        super().__init__(logging.WARNING)
        self.console, self.seen, self.lock_ = console, set(), threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] not in USER_LOGGERS:
            return
        key = (record.name, str(record.msg))
        with self.lock_:
            if key in self.seen:
                return
            self.seen.add(key)
        try:
            self.console.line(f"{record.levelname.lower()}: {record.getMessage()}")
        except Exception:  # a display problem must never take the run down
            self.handleError(record)


class RunConsole:
    """Use as a context manager around a command: `stage(name)` sends the engines' output to logs/<name>.log and shows
    a progress display for that stage; `line(text)` prints one of our lines on the terminal."""

    def __init__(self, log_dir: Path, *, verbose: bool = False) -> None:
        from rich.console import Console

        self.log_dir, self.verbose = log_dir, verbose
        self.terminal, self._owns_terminal = _terminal_stream()
        self.console = Console(file=self.terminal, highlight=False, soft_wrap=True)
        self.capture = _DescriptorCapture()
        self.warnings = _UserWarnings(self)
        self.current: str | None = None
        self._display: _StageDisplay | None = None

    # -- context ---------------------------------------------------------------------------------------------------
    def __enter__(self) -> RunConsole:
        logging.getLogger().addHandler(self.warnings)
        self._reporting = reporting(self._on_update)
        self._reporting.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._end_display()
        self._reporting.__exit__(exc_type, exc, tb)
        logging.getLogger().removeHandler(self.warnings)
        self.capture.restore()
        if exc is not None and self.current is not None and not self.verbose and not _is_user_error(exc):
            # A bug's traceback is printed after this (by Python, on the restored stderr); its engine context is here.
            self.line(f"{self.current} failed; engine and library output: {self.log_path(self.current)}")
        self.terminal.flush()
        if self._owns_terminal:
            self.terminal.close()

    # -- stages ----------------------------------------------------------------------------------------------------
    def log_path(self, stage: str) -> Path:
        return self.log_dir / f"{stage}.log"

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Within the block, engine output goes to logs/<name>.log and the stage's progress is displayed."""
        self._end_display()
        self.current = name
        if not self.verbose:
            self.capture.point_at(self.log_path(name))
            _banner(name)
        self._display = _StageDisplay(self, name)
        try:
            yield
        finally:
            self._end_display()

    def run(self, stage: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` as stage `stage` (see `stage`)."""
        with self.stage(stage):
            return fn(*args, **kwargs)

    def line(self, text: str) -> None:
        display = self._display
        if display is not None and display.live is not None:
            display.live.console.print(text, markup=False)  # printed above the live bar
        else:
            self.console.print(text, markup=False)

    def _on_update(self, update: Update) -> None:
        display = self._display
        if display is not None:
            display.update(update)

    def _end_display(self) -> None:
        display, self._display = self._display, None
        if display is not None:
            display.close()


def _banner(stage: str) -> None:
    print(f"===== {stage} {time.strftime('%Y-%m-%d %H:%M:%S')} (pid {os.getpid()}) =====", flush=True)


def _is_user_error(exc: BaseException) -> bool:
    from distill.errors import as_user_error

    return as_user_error(exc) is not None


def rate_text(update: Update, elapsed: float) -> str:
    """`12/40 units · 0.8 units/s · rejected 2 · 410 tok/s` from the running counts (rates over the stage's time)."""
    parts = []
    per_s = update.done / elapsed if elapsed > 0 else 0.0
    if update.done:
        parts.append(f"{per_s:.2f} {update.unit}/s" if per_s < 10 else f"{per_s:.0f} {update.unit}/s")
    for key, value in update.counts.items():
        if key.endswith("tokens"):
            parts.append(f"{value / elapsed:.0f} tok/s" if elapsed > 0 else "")
        elif isinstance(value, float) and not value.is_integer():
            parts.append(f"{key} {value:.4g}")
        else:
            parts.append(f"{key} {int(value)}")
    return " · ".join(p for p in parts if p)


def eta_text(update: Update, elapsed: float) -> str:
    if not update.total or not update.done or update.done >= update.total:
        return ""
    left = elapsed / update.done * (update.total - update.done)
    return f"ETA {int(left // 60)}:{int(left % 60):02d}"


class _StageDisplay:
    """A live rich bar on a terminal; elsewhere a plain line at most every LINE_INTERVAL_S (the summary follows)."""

    def __init__(self, console: RunConsole, stage: str) -> None:
        self.console, self.stage, self.started = console, stage, time.monotonic()
        self.lock = threading.Lock()
        self.live = None
        self.progress = None
        self.task = None
        self.last_line = self.started
        if console.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn(f"[bold]{stage}[/]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[unit]}"),
                TimeElapsedColumn(), TextColumn("{task.fields[eta]}"), TextColumn("{task.fields[rates]}"),
                console=console.console, transient=True,
            )  # fmt: skip
            self.task = self.progress.add_task(stage, total=None, unit="", eta="", rates="")

    def update(self, update: Update) -> None:
        with self.lock:
            elapsed = time.monotonic() - self.started
            if self.progress is not None:
                if self.live is None:
                    self.progress.start()
                    self.live = self.progress.live
                self.progress.update(self.task, completed=update.done, total=update.total, unit=update.unit,
                                     eta=eta_text(update, elapsed), rates=rate_text(update, elapsed))  # fmt: skip
            elif time.monotonic() - self.last_line >= LINE_INTERVAL_S:
                self.last_line = time.monotonic()
                of = f"/{update.total}" if update.total is not None else ""
                extra = " · ".join(t for t in (eta_text(update, elapsed), rate_text(update, elapsed)) if t)
                self.console.console.print(
                    f"{self.stage}: {update.done}{of} {update.unit}" + (f" · {extra}" if extra else ""), markup=False
                )

    def close(self) -> None:
        with self.lock:
            if self.progress is not None and self.live is not None:
                self.progress.stop()
            self.live = None
