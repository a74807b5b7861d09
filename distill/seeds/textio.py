"""Streaming readers for line files, JSONL and JSON arrays that turn encoding and syntax faults into row errors.

Each yields `(row, value)` where `row` is 1-based (a line for line files, an item for arrays) and `value`
is the parsed record or a `RowError`. One bad line never hides the good lines around it; a cut-off
file ends with a `truncated_file` error at the row where it broke.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ijson

from distill.seeds.rows import RowError


def iter_text_lines(path: Path) -> Iterator[tuple[int, str | RowError]]:
    """Decoded lines (without the newline). Bytes that are not UTF-8 give an `invalid_utf8` error for that line."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            unterminated = not raw.endswith(b"\n")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield (
                    number,
                    RowError(
                        "invalid_utf8",
                        f"line is not valid UTF-8 (byte {exc.start}: {raw[exc.start : exc.start + 4]!r})",
                    ),
                )
                continue
            if number == 1:
                text = text.lstrip("\ufeff")
            text = text.rstrip("\r\n")
            yield number, (_Unterminated(text) if unterminated else text)


class _Unterminated(str):
    """The file's last line had no newline: if it does not parse, the file was probably cut off."""


def is_unterminated(line: str) -> bool:
    return isinstance(line, _Unterminated)


def iter_nonblank_lines(path: Path) -> Iterator[tuple[int, str | RowError]]:
    """`iter_text_lines` without blank lines: what every line-oriented format reads."""
    for number, line in iter_text_lines(path):
        if isinstance(line, RowError) or line.strip():
            yield number, line


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    for number, line in iter_nonblank_lines(path):
        if isinstance(line, RowError):
            yield number, line
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            if is_unterminated(line):
                yield number, RowError("truncated_file", f"the last line is cut off mid-record ({exc.msg})")
            else:
                yield number, RowError("invalid_json", f"line is not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(value, dict):
            yield number, RowError("wrong_type", f"each line should be a JSON object, got {type(value).__name__}")
            continue
        yield number, value


def iter_json_array(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Items of a top-level JSON array, streamed (ESConv.json, PsyQA.json are single arrays)."""
    index = 0
    with open(path, "rb") as fh:
        try:
            for item in ijson.items(fh, "item", use_float=True):
                index += 1
                if not isinstance(item, dict):
                    yield index, RowError("wrong_type", f"array item should be an object, got {type(item).__name__}")
                    continue
                yield index, item
        except ijson.IncompleteJSONError as exc:
            # The C backend reports every syntax error this way; only "premature EOF" means the file was cut.
            if "premature eof" in str(exc).lower() or "incomplete" in str(exc).lower():
                yield (
                    index + 1,
                    RowError("truncated_file", f"the file ends inside item {index + 1} ({_first_line(exc)})"),
                )
            else:
                yield index + 1, RowError("invalid_json", f"item {index + 1} is not valid JSON: {_first_line(exc)}")
        except UnicodeDecodeError as exc:
            yield index + 1, RowError("invalid_utf8", f"item {index + 1} is not valid UTF-8: {exc.reason}")
        except ijson.JSONError as exc:
            yield index + 1, RowError("invalid_json", f"item {index + 1} is not valid JSON: {_first_line(exc)}")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def first_significant_byte(path: Path) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1]


def iter_json_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """A JSON array or JSON Lines, whichever the file holds."""
    return iter_json_array(path) if first_significant_byte(path) == b"[" else iter_jsonl(path)
