"""Sharded Arrow storage: `ShardWriter` writes, `list_shards` / `iter_batches` / `iter_rows` read.

A shard is complete iff its marker `_done/<shard>.json` exists. The writer streams row groups into a
hidden temp file, fsyncs, renames it into place and only then writes the marker, so a crash at any
point leaves either a complete shard or one the reader skips. Markers record rows, bytes and a
blake2b digest, so truncated or corrupted shards are detected instead of silently read. `clear_prefix` removes
what one writer left (its shards, markers and temp files) before a retry writes them again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from distill.atomic import atomic_write_json
from distill.errors import writing
from distill.records import SCHEMA_VERSION, SCORES, scores_rows

log = logging.getLogger(__name__)

ShardFormat = Literal["parquet", "arrow"]
DONE_DIR = "_done"
_SUFFIX = {"parquet": ".parquet", "arrow": ".arrow"}


class CorruptShardError(RuntimeError):
    """A shard whose marker says complete but whose bytes do not match it."""


@dataclass(frozen=True)
class ShardInfo:
    path: Path
    rows: int
    bytes: int
    digest: str
    schema_version: str


def _digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ShardWriter:
    """Streams rows into shards of at most `rows_per_shard` rows, each finished atomically.

    Use as a context manager: on a clean exit the last shard is finished; on an exception the
    partial shard is deleted and nothing is marked done.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        schema: pa.Schema,
        *,
        prefix: str = "part",
        rows_per_shard: int = 100_000,
        row_group_rows: int = 4096,
        format: ShardFormat = "parquet",
        compression: str = "zstd",
    ) -> None:
        if rows_per_shard < 1 or row_group_rows < 1:
            raise ValueError("rows_per_shard and row_group_rows must be >= 1")
        if format not in _SUFFIX:
            raise ValueError(f"unknown shard format {format!r}; expected one of {sorted(_SUFFIX)}")
        self.directory = Path(directory)
        self.schema = schema
        self.prefix = prefix
        self.rows_per_shard = rows_per_shard
        self.row_group_rows = min(row_group_rows, rows_per_shard)
        self.format = format
        self.compression = compression
        self.written: list[ShardInfo] = []
        self._buffer: list[dict[str, Any]] = []
        self._sink: pq.ParquetWriter | ipc.RecordBatchFileWriter | None = None
        self._tmp: Path | None = None
        self._rows_in_shard = 0
        self._index = 0
        self._score_fields = [f.name for f in schema if f.type == SCORES]

    # -- public API ---------------------------------------------------------------------------
    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            for name in self._score_fields:
                if isinstance(row.get(name), dict):
                    row = {**row, name: scores_rows(row[name])}
            self._buffer.append(row)
            if (
                len(self._buffer) >= self.row_group_rows
                or self._rows_in_shard + len(self._buffer) >= self.rows_per_shard
            ):
                self._drain_buffer()

    def write_table(self, table: pa.Table) -> None:
        if not table.schema.equals(self.schema, check_metadata=False):
            table = table.select(self.schema.names).cast(self.schema)
        self._drain_buffer()
        offset = 0
        while offset < table.num_rows:
            take = min(self.rows_per_shard - self._rows_in_shard, table.num_rows - offset)
            self._append(table.slice(offset, take))
            offset += take

    def close(self) -> list[ShardInfo]:
        try:
            self._drain_buffer()
            self._finish_shard()
        except BaseException:
            self.abort()  # buffered rows are written here: a write that fails now must not leave its temp file
            raise
        return self.written

    def abort(self) -> None:
        """Drop the shard in progress (finished shards stay, they are complete)."""
        self._buffer.clear()
        if self._sink is not None:
            try:
                self._sink.close()
            except Exception:  # the file is deleted next; a close error changes nothing
                pass
            self._sink = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # -- internals ----------------------------------------------------------------------------
    def _drain_buffer(self) -> None:
        while self._buffer:
            take = min(len(self._buffer), self.rows_per_shard - self._rows_in_shard)
            chunk, self._buffer = self._buffer[:take], self._buffer[take:]
            try:
                table = pa.Table.from_pylist(chunk, schema=self.schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
                kind = (self.schema.metadata or {}).get(b"distill.kind", b"?").decode()
                raise ValueError(f"rows do not fit the {kind} schema: {exc}") from exc
            self._append(table)

    def _append(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if self._sink is None:
            self._open_shard()
        with writing(self.directory / self._shard_name()):  # a full disk names the shard, not an anonymous errno
            if isinstance(self._sink, pq.ParquetWriter):
                self._sink.write_table(table, row_group_size=self.row_group_rows)
            else:
                self._sink.write_table(table)
        self._rows_in_shard += table.num_rows
        if self._rows_in_shard >= self.rows_per_shard:
            self._finish_shard()

    def _shard_name(self) -> str:
        return f"{self.prefix}-{self._index:05d}{_SUFFIX[self.format]}"

    def _open_shard(self) -> None:
        with writing(self.directory / self._shard_name()):
            self.directory.mkdir(parents=True, exist_ok=True)
            self._tmp = self.directory / f".{self._shard_name()}.tmp"
            schema = self.schema.with_metadata(
                {**(self.schema.metadata or {}), b"distill.schema_version": SCHEMA_VERSION.encode()}
            )
            if self.format == "parquet":
                # Page checksums let readers detect flipped bytes, not just truncation.
                self._sink = pq.ParquetWriter(self._tmp, schema, compression=self.compression, write_page_checksum=True)
            else:
                self._sink = ipc.new_file(str(self._tmp), schema)
        self._rows_in_shard = 0

    def _finish_shard(self) -> None:
        if self._sink is None:
            return
        final = self.directory / self._shard_name()
        with writing(final):  # the footer is written on close: a full disk can strike here too
            self._sink.close()
            self._sink = None
            assert self._tmp is not None
            with open(self._tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(self._tmp, final)
        self._tmp = None
        info = ShardInfo(final, self._rows_in_shard, final.stat().st_size, _digest(final), SCHEMA_VERSION)
        try:
            # The marker is written last: it is what makes the shard visible to readers.
            atomic_write_json(
                self.directory / DONE_DIR / f"{final.name}.json",
                {"rows": info.rows, "bytes": info.bytes, "digest": info.digest, "schema_version": info.schema_version},
            )
        except BaseException:
            final.unlink(
                missing_ok=True
            )  # no marker, no shard: nothing half-finished is left for a reader to warn about
            raise
        self.written.append(info)
        self._index += 1
        self._rows_in_shard = 0


def clear_prefix(directory: str | os.PathLike[str], prefix: str) -> int:
    """Remove every shard a writer with `prefix` left in `directory`, its markers and temp files; returns files removed.

    A retried writer rewrites its shards from scratch under the same names, so nothing of an earlier attempt may stay.
    Markers go first: a crash midway leaves only unmarked shards, which readers skip.
    """
    root = Path(directory)
    if not root.is_dir():
        return 0
    done = root / DONE_DIR
    patterns = [(done, f"{prefix}-*"), (done, f".{prefix}-*"), (root, f"{prefix}-*"), (root, f".{prefix}-*")]
    removed = 0
    for folder, pattern in patterns:
        for path in sorted(folder.glob(pattern)) if folder.is_dir() else []:
            if path.is_file():
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def list_shards(directory: str | os.PathLike[str]) -> list[ShardInfo]:
    """Complete shards in `directory`, sorted by name. Files without a marker are skipped with a warning."""
    root = Path(directory)
    if not root.is_dir():
        return []
    infos: list[ShardInfo] = []
    marked: set[str] = set()
    done = root / DONE_DIR
    for marker in sorted(done.glob("*.json")) if done.is_dir() else []:
        name = marker.name[: -len(".json")]
        meta = json.loads(marker.read_text())
        infos.append(
            ShardInfo(root / name, int(meta["rows"]), int(meta["bytes"]), meta["digest"], str(meta["schema_version"]))
        )
        marked.add(name)
    for path in sorted(root.iterdir()):
        if path.suffix in (".parquet", ".arrow") and path.name not in marked:
            log.warning("skipping incomplete shard %s (no completion marker)", path)
    return infos


def _check(info: ShardInfo, verify_digest: bool) -> None:
    if not info.path.exists():
        raise CorruptShardError(f"{info.path}: marked complete but the file is missing")
    size = info.path.stat().st_size
    if size != info.bytes:
        raise CorruptShardError(
            f"{info.path}: {size} bytes on disk, marker says {info.bytes} (truncated or overwritten)"
        )
    if info.schema_version != SCHEMA_VERSION:
        raise CorruptShardError(f"{info.path}: schema version {info.schema_version}, this code reads {SCHEMA_VERSION}")
    if verify_digest and _digest(info.path) != info.digest:
        raise CorruptShardError(f"{info.path}: content digest does not match its marker (corrupted)")


def iter_shard_batches(
    info: ShardInfo, *, columns: list[str] | None = None, verify_digest: bool = False
) -> Iterator[pa.RecordBatch]:
    """Stream one complete shard (memory: one row group), checking it against its marker as it goes."""
    _check(info, verify_digest)
    rows = 0
    try:
        if info.path.suffix == ".parquet":
            pf = pq.ParquetFile(info.path, page_checksum_verification=True)
            for batch in pf.iter_batches(columns=columns):
                rows += batch.num_rows
                yield batch
        else:
            with pa.memory_map(str(info.path)) as source:
                reader = ipc.open_file(source)
                for i in range(reader.num_record_batches):
                    batch = reader.get_batch(i)
                    rows += batch.num_rows
                    yield batch.select(columns) if columns else batch
    except (OSError, pa.ArrowException) as exc:
        raise CorruptShardError(f"{info.path}: unreadable shard: {exc}") from exc
    if rows != info.rows:
        raise CorruptShardError(f"{info.path}: read {rows} rows, marker says {info.rows}")


def iter_batches(
    directory: str | os.PathLike[str],
    *,
    columns: list[str] | None = None,
    verify_digest: bool = False,
) -> Iterator[pa.RecordBatch]:
    """Stream record batches of every complete shard; memory is bounded by one row group."""
    for info in list_shards(directory):
        yield from iter_shard_batches(info, columns=columns, verify_digest=verify_digest)


def iter_rows(directory: str | os.PathLike[str], **kwargs: Any) -> Iterator[dict[str, Any]]:
    for batch in iter_batches(directory, **kwargs):
        yield from batch.to_pylist()


def count_rows(directory: str | os.PathLike[str]) -> int:
    return sum(info.rows for info in list_shards(directory))


def read_table(directory: str | os.PathLike[str], **kwargs: Any) -> pa.Table | None:
    """Everything in `directory` as one table: for small outputs and tests, not for datasets."""
    batches = list(iter_batches(directory, **kwargs))
    return pa.Table.from_batches(batches) if batches else None
