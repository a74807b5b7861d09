"""EmpatheticDialogues (Rashkin et al., 2019): one row per utterance, grouped into conversations by conv_id.

Original CSV columns: conv_id, utterance_idx, context (the emotion), prompt (the situation), speaker_idx,
utterance[, selfeval, tags]; commas inside text are escaped as `_comma_`. The HF dataset has the same
columns. The first speaker is the one who felt the emotion: they become `user`, the listener `assistant`.
Rows of a conversation are contiguous in the files, so conversations are grouped while streaming.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill.seeds.rows import Limits, RowError, check_emotion, check_messages, seed_row
from distill.seeds.textio import is_unterminated, iter_nonblank_lines

COLUMNS = ("conv_id", "utterance_idx", "context", "prompt", "speaker_idx", "utterance")


def unescape(text: str) -> str:
    return text.replace("_comma_", ",").strip()


@dataclass
class _Conversation:
    conv_id: str
    first_row: int
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def iter_csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Utterance rows of an ED CSV as dicts keyed by the header, or a RowError for a bad line."""
    header: list[str] | None = None
    for number, line in iter_nonblank_lines(path):
        if isinstance(line, RowError):
            yield number, line
            continue
        cells = next(csv.reader([line]))
        if header is None:
            header = [c.strip() for c in cells]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                yield number, RowError("missing_field", f"CSV header lacks column(s) {', '.join(missing)}", missing[0])
                return
            continue
        if len(cells) < len(header):
            reason = "truncated_file" if is_unterminated(line) else "wrong_field_count"
            yield number, RowError(reason, f"{len(cells)} fields, the header has {len(header)}")
            continue
        yield number, dict(zip(header, cells, strict=False))


def _to_int(row: dict[str, Any], name: str) -> int:
    value = row.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowError("missing_field", f"required field {name!r} is missing", name)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise RowError("wrong_type", f"field {name!r} should be an integer, got {value!r}", name) from None


def _conversation_to_seed(conv: _Conversation, source: str, language: str | None, limits: Limits) -> dict[str, Any]:
    turns = sorted(conv.rows, key=lambda item: _to_int(item[1], "utterance_idx"))
    indices = [_to_int(row, "utterance_idx") for _, row in turns]
    if indices != list(range(1, len(indices) + 1)):
        raise RowError(
            "missing_turns", f"utterance_idx runs {indices}, expected 1..{len(indices)} without gaps", "utterance_idx"
        )
    first = turns[0][1]
    seeker = str(first.get("speaker_idx"))
    messages = []
    for i, (_, row) in enumerate(turns):
        text = row.get("utterance")
        if not isinstance(text, str):
            raise RowError("missing_field", f"utterance {i + 1} has no text", "utterance")
        role = "user" if str(row.get("speaker_idx")) == seeker else "assistant"
        messages.append({"role": role, "content": unescape(text)})
    messages, repairs = check_messages(messages, limits, field="utterance")
    emotion = check_emotion(first.get("context"), field="context")
    situation = unescape(first["prompt"]) if isinstance(first.get("prompt"), str) else None
    return seed_row(
        source=source,
        key=conv.conv_id,
        messages=messages,
        language=language or "en",
        emotion=emotion,
        situation=situation or None,
        metadata={"conv_id": conv.conv_id},
        repairs=repairs,
    )


def group_conversations(
    rows: Iterable[tuple[int, dict[str, Any] | RowError]], source: str, language: str | None, limits: Limits
) -> Iterator[tuple[int, int, dict[str, Any] | RowError]]:
    """(first row, rows used, Seed or RowError) per conversation, plus one per unparseable row."""
    current: _Conversation | None = None

    def finish(conv: _Conversation) -> tuple[int, int, dict[str, Any] | RowError]:
        try:
            return conv.first_row, len(conv.rows), _conversation_to_seed(conv, source, language, limits)
        except RowError as err:
            return conv.first_row, len(conv.rows), err

    for number, row in rows:
        if isinstance(row, RowError):
            yield number, 1, row
            continue
        conv_id = row.get("conv_id")
        if not isinstance(conv_id, str) or not conv_id.strip():
            yield number, 1, RowError("missing_field", "required field 'conv_id' is missing", "conv_id")
            continue
        if current is None or conv_id != current.conv_id:
            if current is not None:
                yield finish(current)
            current = _Conversation(conv_id, number)
        current.rows.append((number, row))
    if current is not None:
        yield finish(current)
