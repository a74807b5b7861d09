"""Read one configured seed source into a stream of outcomes: a Seed row or a Reject row, never neither.

A source is a file, a folder of files, a bundled seed set (`BUNDLED_SETS`), or a hub dataset. The format is taken
from the config or detected per file from its extension and first record. Counting is per source
record (an ED conversation, a JSON item, a JSONL line, a Parquet row): in = kept + rejected.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from distill.config import SeedSource
from distill.errors import InputError
from distill.records import make_reject
from distill.seeds import empathetic_dialogues as ed
from distill.seeds.chat import chat_to_seed
from distill.seeds.esconv import esconv_to_seed
from distill.seeds.licenses import source_license
from distill.seeds.long import cut_long
from distill.seeds.psyqa import psyqa_to_seed
from distill.seeds.rows import Limits, RowError
from distill.seeds.soulchat import soulchat_to_seed
from distill.seeds.textio import iter_json_records

log = logging.getLogger(__name__)

BUNDLED = "bundled"
# `path:` names of the seed sets shipped in distill/data/seeds/ (the project's own writing, Apache-2.0).
BUNDLED_SETS = {
    BUNDLED: "en_empathy_seeds.jsonl",  # 96 multi-turn dialogues: continue, selfchat
    "bundled_qa": "en_empathy_qa_seeds.jsonl",  # 32 single-turn posts + counsellor answers: rewrite (and the others)
}
STAGE = "seeds"
SEED_SUFFIXES = (".csv", ".json", ".jsonl", ".parquet")
Converter = Callable[[dict[str, Any], str, str, "str | None", Limits], dict[str, Any]]
CONVERTERS: dict[str, Converter] = {
    "esconv": esconv_to_seed,
    "psyqa": psyqa_to_seed,
    "soulchat": soulchat_to_seed,
    "chat": chat_to_seed,
}


@dataclass(frozen=True)
class Outcome:
    """One source record's fate: its seeds (one, or a long dialogue's windows) or a reject."""

    seeds: tuple[dict[str, Any], ...]
    reject: dict[str, Any] | None
    rows: int = 1  # source rows this outcome accounts for (an ED conversation spans several)
    source_file: str | None = None
    source_row: int | None = None

    @property
    def seed(self) -> dict[str, Any] | None:
        """The first seed (the only one unless the record was cut into windows)."""
        return self.seeds[0] if self.seeds else None


def bundled_seeds_path(name: str = BUNDLED) -> Path:
    return Path(str(resources.files("distill") / "data" / "seeds" / BUNDLED_SETS[name]))


def detect_format_of_record(item: dict[str, Any]) -> str | None:
    keys = set(item)
    if {"conv_id", "utterance_idx", "utterance"} <= keys:
        return "empathetic_dialogues"
    if "dialog" in keys and ("emotion_type" in keys or "problem_type" in keys):
        return "esconv"
    if "text" in keys and isinstance(item.get("text"), str) and '"dialog"' in item["text"][:2000]:
        return "esconv"
    if "messages" in keys or "conversations" in keys:
        return "chat"
    if "question" in keys:
        return "psyqa"
    if any(
        isinstance(item.get(k), str) and ("用户" in item[k] or "心理咨询师" in item[k])
        for k in ("input", "dialogue", "text")
    ):
        return "soulchat"
    return None


def detect_format(path: Path) -> str:
    """Format of one file, from its extension and (for JSON) its first record."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "empathetic_dialogues"
    if suffix == ".parquet":
        try:
            first = next(pq.ParquetFile(path).iter_batches(batch_size=1)).to_pylist()[0]
        except (StopIteration, IndexError, OSError, pa.ArrowException):
            return "chat"  # empty or unreadable: the reader turns it into a reject naming the file
        return detect_format_of_record(first) or "chat"
    if suffix in (".json", ".jsonl"):
        for _, item in iter_json_records(path):
            if isinstance(item, dict):
                fmt = detect_format_of_record(item)
                if fmt:
                    return fmt
                raise InputError(
                    f"{path}: cannot tell the seed format from the first record's fields "
                    f"({', '.join(sorted(item)) or 'none'}); "
                    "set `format` on this source"
                )
        return "chat"  # empty or all-invalid: the chat reader reports each bad line
    raise InputError(f"{path}: unsupported seed file type {suffix!r}; expected one of {', '.join(SEED_SUFFIXES)}")


def source_files(source: SeedSource) -> list[Path]:
    if source.path in BUNDLED_SETS:
        bundled = bundled_seeds_path(source.path)
        if not bundled.is_file():
            raise InputError(
                f"{bundled}: the bundled seed set is missing from this installation; reinstall the package"
            )
        return [bundled]
    path = Path(source.path or "")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SEED_SUFFIXES)
        if not files:
            raise InputError(f"{path}: folder has no seed files ({', '.join(SEED_SUFFIXES)})")
        return files
    if not path.is_file():
        raise InputError(f"{path}: seed file not found")
    return [path]


def _records_of_file(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    if fmt == "empathetic_dialogues" and path.suffix.lower() == ".csv":
        yield from ed.iter_csv_rows(path)
    elif path.suffix.lower() == ".parquet":
        yield from _iter_parquet(path)
    else:
        yield from iter_json_records(path)


def _iter_parquet(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    row = 0
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
            for item in batch.to_pylist():
                row += 1
                yield row, item
    except (OSError, pa.ArrowException) as exc:
        yield row + 1, RowError("truncated_file", f"unreadable Parquet data after row {row}: {exc}")


def _iter_hub(source: SeedSource) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    import datasets

    try:
        stream = datasets.load_dataset(source.hub, source.hub_config, split=source.split, streaming=True)
    except Exception as exc:  # offline, unknown id, gated: all the user's to fix, so one clear line
        raise InputError(f"hub dataset {source.hub!r} (split {source.split!r}) could not be loaded: {exc}") from None
    for row, item in enumerate(stream, start=1):
        yield row, dict(item)


def _outcomes(
    records: Iterator[tuple[int, dict[str, Any] | RowError]], fmt: str, origin: str, source: SeedSource, limits: Limits
) -> Iterator[Outcome]:
    name = source.name or fmt
    stem = Path(origin).name

    license = source_license(source.license, fmt, source.path in BUNDLED_SETS)

    def reject(row: int | None, err: RowError, rows: int = 1) -> Outcome:
        record = make_reject(STAGE, err.reason, err.detail, source_file=origin, source_row=row, field=err.field)
        return Outcome((), record, rows, origin, row)

    def kept(seed: dict[str, Any], rows: int, row: int | None) -> Outcome:
        seed = {**seed, "license": license}
        seeds = cut_long(seed, limits.long_dialogues, limits.max_turns, source.window_overlap, origin, row)
        return Outcome(tuple(seeds), None, rows, origin, row)

    if fmt == "empathetic_dialogues":
        for first_row, rows, value in ed.group_conversations(records, name, source.language, limits):
            yield reject(first_row, value, rows) if isinstance(value, RowError) else kept(value, rows, first_row)
        return
    convert = CONVERTERS[fmt]
    for row, item in records:
        if isinstance(item, RowError):
            yield reject(row, item)
            continue
        try:
            seed = convert(item, f"{stem}:{row}", name, source.language, limits)
        except RowError as err:
            yield reject(row, err)
            continue
        yield kept(seed, 1, row)


def _with_empty_check(outcomes: Iterator[Outcome], origin: str) -> Iterator[Outcome]:
    """A file that yields no record at all is reported, not silently skipped."""
    empty = True
    for outcome in outcomes:
        empty = False
        yield outcome
    if empty:
        record = make_reject(STAGE, "empty_file", "the file holds no records", source_file=origin)
        yield Outcome((), record, 0, origin, None)


def source_limits(source: SeedSource, limits: Limits) -> Limits:
    """The section's limits with this source's repair policies and role map."""
    return dataclasses.replace(
        limits,
        long_dialogues=source.long_dialogues,
        empty_turns=source.empty_turns,
        roles=tuple(sorted(source.roles.items())),
    )


def iter_source(source: SeedSource, limits: Limits) -> Iterator[Outcome]:
    """Outcomes of one configured source, streamed; `limit` caps kept source records."""
    kept = 0
    limits = source_limits(source, limits)
    for origin, fmt, records in _streams(source):
        for outcome in _with_empty_check(_outcomes(records, fmt, origin, source, limits), origin):
            yield outcome
            kept += bool(outcome.seeds)
            if source.limit is not None and kept >= source.limit:
                return


def _streams(source: SeedSource) -> Iterator[tuple[str, str, Iterator[tuple[int, dict[str, Any] | RowError]]]]:
    if source.hub is not None:
        records = _iter_hub(source)
        fmt = source.format
        if fmt == "auto":
            first = next(records, None)
            if first is None:
                return
            fmt = detect_format_of_record(first[1]) if isinstance(first[1], dict) else None
            if fmt is None:
                raise InputError(
                    f"hub dataset {source.hub!r}: cannot tell the seed format; set `format` on this source"
                )
            records = _chain(first, records)
        yield f"hub:{source.hub}", fmt, records
        return
    for path in source_files(source):
        fmt = source.format if source.format != "auto" else detect_format(path)
        yield str(path), fmt, _records_of_file(path, fmt)


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
