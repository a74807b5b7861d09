"""An exclusive lease on a run folder, so two drivers (two `distill run`, a resubmitted Ray job) never write one at
once.

Two parts, because run folders live on local disks and on shared file systems alike:
- an OS lock (`flock`) on `<run>/.lease.lock`, held for the driver's lifetime: the kernel (or the NFS lock manager)
  drops it when the process dies, however it dies, so a SIGKILLed holder never blocks the next run;
- `<run>/lease.json` naming the holder (host, pid, command, since) with a heartbeat, which is what a refused driver
  prints, and what decides on file systems without working locks: a lease from another host whose heartbeat is
  older than `STALE_AFTER_S` is taken over.
The lease is re-entrant within a process: `distill run` holds it across its stages and each stage takes it again.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from distill.atomic import atomic_write_json
from distill.errors import RunStateError, writing

log = logging.getLogger(__name__)

LOCK_FILE = ".lease.lock"
HOLDER_FILE = "lease.json"
HEARTBEAT_S = 15.0
STALE_AFTER_S = 120.0  # eight missed heartbeats: the holder is gone


class RunBusyError(RunStateError):
    """Another driver holds the run folder's lease."""


class _Lease:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.depth = 0
        self._fd: int | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._since = _now()

    def acquire(self) -> None:
        with writing(self.root):
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            locked = _try_flock(fd, self.root)
            if locked is False:
                raise RunBusyError(_busy_message(self.root, read_holder(self.root)))
            holder = read_holder(self.root)
            if holder and _may_be_alive(holder, locked=locked is True):
                raise RunBusyError(_busy_message(self.root, holder))
            if holder:
                log.warning(
                    "%s: taking over the lease of a driver that is gone (%s)", self.root, describe_holder(holder)
                )
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._write_holder()
        self._beat = threading.Thread(target=self._heartbeat, name=f"lease-{self.root.name}", daemon=True)
        self._beat.start()

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        (self.root / HOLDER_FILE).unlink(missing_ok=True)  # before the lock goes, so nobody reads a released holder
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def _write_holder(self) -> None:
        atomic_write_json(
            self.root / HOLDER_FILE,
            {
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300] if sys.argv else "",
                "since": self._since,
                "heartbeat": time.time(),
            },
        )

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                self._write_holder()
            except OSError as exc:  # a full disk must not kill the driver from a side thread; the stage will say it
                log.warning("%s: could not renew the lease: %s", self.root, exc)


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def _try_flock(fd: int, root: Path) -> bool | None:
    """True when this process now holds the lock, False when another does, None when the file system has no locks."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
            log.warning(
                "%s: the file system has no locks (%s); the lease relies on the holder file only", root, exc.strerror
            )
            return None
        raise


def _may_be_alive(holder: dict[str, Any], *, locked: bool) -> bool:
    """Whether the recorded holder may still be running, given whether this process got the OS lock."""
    if holder.get("host") == socket.gethostname():
        if locked:
            return False  # on this host the lock is authoritative: its holder is dead
        try:
            os.kill(int(holder.get("pid", 0)), 0)
        except ProcessLookupError:
            return False
        except (PermissionError, ValueError):
            return True
        return True
    return time.time() - float(holder.get("heartbeat", 0)) < STALE_AFTER_S


def read_holder(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / HOLDER_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def describe_holder(holder: dict[str, Any]) -> str:
    if not holder:
        return "a driver that has not written its name yet"
    return (
        f"pid {holder.get('pid')} on {holder.get('host')}, `{holder.get('command', '?')}`, since "
        f"{holder.get('since', '?')}"
    )


def _busy_message(root: Path, holder: dict[str, Any]) -> str:
    return (
        f"{root}: in use by another driver ({describe_holder(holder)}); wait for it to finish, or stop it and rerun "
        "to resume"
    )


_held: dict[Path, _Lease] = {}
_held_guard = threading.Lock()


@contextmanager
def run_lease(root: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the run folder's lease for the block (re-entrant in this process); RunBusyError (exit 2) if another has
    it."""
    key = Path(root).resolve()
    with _held_guard:
        lease = _held.get(key)
        if lease is None:
            lease = _Lease(key)
            lease.acquire()
            _held[key] = lease
        lease.depth += 1
    try:
        yield
    finally:
        with _held_guard:
            lease.depth -= 1
            if lease.depth == 0:
                del _held[key]
                lease.release()
