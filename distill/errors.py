"""Errors meant for users: the CLI prints their message in one line (no traceback) and exits non-zero."""

from __future__ import annotations


class DistillError(Exception):
    """Base of every error caused by user input (config, files, rows) rather than by a bug."""

    exit_code = 2


class ConfigError(DistillError):
    """A config file or override is invalid; the message names the field."""


class InputError(DistillError):
    """An input file is missing, unreadable or malformed; the message names the file (and row, field)."""


class RunStateError(DistillError):
    """The run folder is not in a state this command can continue from (e.g. it was made with another config)."""
