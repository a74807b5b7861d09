"""Errors meant for users: the CLI prints their message in one line (no traceback) and exits non-zero."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


class DistillError(Exception):
    """Base of every error caused by user input (config, files, rows) rather than by a bug."""

    exit_code = 2


class ConfigError(DistillError):
    """A config file or override is invalid; the message names the field."""


class InputError(DistillError):
    """An input file is missing, unreadable or malformed; the message names the file (and row, field)."""


class RunStateError(DistillError):
    """The run folder is not in a state this command can continue from (e.g. it was made with another config)."""


class OutputError(DistillError):
    """The run folder cannot be written (disk full, file-size limit, read-only, a path part is a file); names the
    path."""


# Storage conditions a user fixes (free space, another folder); any other OSError is a bug and keeps its traceback.
_STORAGE_REASONS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large (file-system or `ulimit -f` size limit)",
    errno.EROFS: "read-only file system",
}
# These mean a user error only when they carry the path (else they may come from anything, e.g. a socket).
_PATH_REASONS = {
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "exists and is not a folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def storage_error(
    exc: BaseException, path: str | os.PathLike[str] | None = None, *, on_write: bool = False
) -> OutputError | None:
    """`exc` as a one-line OutputError naming `path` (or the path it carries) if it is a storage condition, else
    None."""
    if not isinstance(exc, OSError):
        return None
    where = exc.filename if exc.filename is not None else path
    reason = _STORAGE_REASONS.get(exc.errno) or (_PATH_REASONS.get(exc.errno) if where is not None else None)
    if reason is None:
        return None
    verb = "write" if on_write or exc.errno in _STORAGE_REASONS else "access"  # a permission error may come from a read
    return OutputError(
        f"cannot {verb} {where if where is not None else '(unknown file)'}: {reason}; fix it, then rerun the same "
        "command to resume"
    )


@contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn a storage OSError raised while writing `path` into an OutputError that names it."""
    try:
        yield
    except OSError as exc:
        err = storage_error(exc, path, on_write=True)
        if err is None:
            raise
        raise err from exc


def as_user_error(exc: BaseException) -> DistillError | None:
    """The one-line user error `exc` stands for (a DistillError, or a storage OSError naming its path), else None: a
    bug."""
    if isinstance(exc, DistillError):
        return exc
    return storage_error(exc)


def report_user_error(exc: BaseException) -> int:
    """For a command's top level: print a user error in one line to stderr and return its exit code; re-raise a bug."""
    err = as_user_error(exc)
    if err is None:
        raise exc
    print(f"error: {err}", file=sys.stderr)
    return err.exit_code
