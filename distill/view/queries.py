"""The run folder's outputs as DuckDB queries over their complete Parquet shards, read in place.

Every query pushes its filters and its LIMIT into the Parquet scan, so a page costs the rows it shows (plus, for a
selective filter, a scan of the filtered columns), never a table in memory. Pages are keyset pages: a cursor is
(shard, row) of the last row shown and the next page scans from that shard on, so page 10,000 costs what page 1 does.
Only shards with a completion marker (`distill.shards.list_shards`) are read: a shard being written is never shown.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill.errors import InputError
from distill.shards import list_shards

log = logging.getLogger(__name__)

PAGE_ROWS = 50
COUNT_CAP = 10_000  # a filtered count stops here ("10,000+"): past it the number changes nothing a reader does
COUNT_BUDGET_S = (
    1.0  # a count still scanning after this (a rare search term over millions of rows) is dropped, not waited for
)
_SCORE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Output:
    name: str  # as it appears in URLs
    title: str
    kind: str  # record kind (distill.records.SCHEMAS)
    folder: str  # relative to the run folder; "rejects" means every rejects/<stage>/


OUTPUTS: dict[str, Output] = {
    o.name: o
    for o in (
        Output("curated", "Curated dialogues", "dialogue", "curated"),
        Output("samples", "Sample windows", "sample_window", "samples"),
        Output("prefs", "Preference pairs", "preference_pair", "prefs"),
        Output("rejects", "Rejects", "reject", "rejects"),
        Output("generated", "Generated dialogues (before curation)", "dialogue", "generated"),
        Output("seeds", "Seeds", "seed", "seeds"),
        Output("holdout", "Held-out seeds", "seed", "holdout"),
    )
}

# Filters a list page accepts, per record kind: exact-match columns, and facets (shown as drop-downs with counts).
EQUALS: dict[str, tuple[str, ...]] = {
    "dialogue": ("emotion", "mode", "source", "license", "seed_id", "id"),
    "sample_window": ("emotion", "source", "dialogue_id", "seed_id"),
    "preference_pair": ("emotion", "rejected_emotion", "method", "source", "dialogue_id"),
    "reject": ("stage", "reason", "field", "id"),
    "seed": ("emotion", "source", "language", "license", "id"),
}
FACETS: dict[str, tuple[str, ...]] = {
    "dialogue": ("emotion", "mode", "strategy", "source"),
    "sample_window": ("emotion", "source"),
    "preference_pair": ("emotion", "method"),
    "reject": ("stage", "reason"),
    "seed": ("emotion", "source", "language"),
}


def _any_message(column: str) -> str:
    return f"coalesce(list_bool_or(list_transform({column}, lambda m: regexp_matches(m.content, $q, 'i'))), false)"


# Full-text search: a case-insensitive literal match (the term is regex-escaped). Sample windows search their response
# and the turn it answers, not the whole context: the context is its dialogue's text again, searchable there.
TEXT: dict[str, str] = {
    "dialogue": _any_message("messages"),
    "sample_window": "(regexp_matches(response, $q, 'i') OR coalesce(regexp_matches(context[-1].content, $q, 'i'), "
    "false))",
    "preference_pair": "(regexp_matches(chosen, $q, 'i') OR regexp_matches(rejected, $q, 'i') OR "
    f"{_any_message('prompt')})",
    "reject": "(coalesce(regexp_matches(detail, $q, 'i'), false) OR coalesce(regexp_matches(record, $q, 'i'), false))",
    "seed": f"(coalesce(regexp_matches(situation, $q, 'i'), false) OR {_any_message('messages')})",
}

_FIRST_USER = "left(list_filter({col}, lambda m: m.role = 'user')[1].content, 240)"
# What a list page shows of each row: short, so a page of 50 reads a few kB of text per column.
LIST_COLUMNS: dict[str, str] = {
    "dialogue": f"id, emotion, mode, strategies, len(messages) AS turns, {_FIRST_USER.format(col='messages')} AS "
    "opening, scores",
    "sample_window": "id, dialogue_id, emotion, turn, left(context[-1].content, 240) AS prompt, left(response, 240) AS "
    "response",
    "preference_pair": "id, dialogue_id, emotion, rejected_emotion, method, left(chosen, 200) AS chosen, "
    "left(rejected, 200) AS rejected",
    "reject": "id, stage, reason, left(detail, 240) AS detail, source_file, source_row",
    "seed": f"id, source, emotion, language, left(situation, 200) AS situation, {_FIRST_USER.format(col='messages')} "
    "AS opening",
}


def literal_pattern(text: str) -> str:
    """`text` as an RE2 pattern matching it literally (DuckDB's regexp functions are RE2)."""
    return "".join("\\" + c if c.isascii() and not c.isalnum() and not c.isspace() else c for c in text)


class FilterError(ValueError):
    """A query parameter the viewer cannot use (a score bound that is not a number, ...); the page says which."""


@dataclass(frozen=True)
class Filters:
    equals: dict[str, str] = field(default_factory=dict)
    strategy: str | None = None
    text: str | None = None
    score_min: dict[str, float] = field(default_factory=dict)
    score_max: dict[str, float] = field(default_factory=dict)

    @classmethod
    def parse(cls, kind: str, params: Mapping[str, str]) -> Filters:
        """Filters from URL query parameters: `emotion=sad`, `strategy=comfort`, `q=text`, `min.empathy=2`,
        `max.empathy=4`."""
        equals = {c: params[c] for c in EQUALS[kind] if params.get(c)}
        score_min: dict[str, float] = {}
        score_max: dict[str, float] = {}
        for key, value in params.items():
            bound, _, name = key.partition(".")
            if bound not in ("min", "max") or not name or value == "":
                continue
            if kind != "dialogue":
                raise FilterError(f"{key}: only dialogues have scores")
            if not _SCORE_NAME.match(name):
                raise FilterError(f"{key}: not a score name")
            try:
                number = float(value)
            except ValueError:
                raise FilterError(f"{key}={value!r}: not a number") from None
            (score_min if bound == "min" else score_max)[name] = number
        strategy = params.get("strategy") or None
        if strategy and kind != "dialogue":
            raise FilterError("strategy: only dialogues have strategies")
        return cls(equals, strategy, params.get("q") or None, score_min, score_max)

    def sql(self, kind: str) -> tuple[list[str], dict[str, Any]]:
        """WHERE conditions and their named parameters (values are always parameters, never spliced into SQL)."""
        conds: list[str] = []
        params: dict[str, Any] = {}
        for i, (column, value) in enumerate(sorted(self.equals.items())):
            conds.append(f"{column} = $e{i}")
            params[f"e{i}"] = value
        if self.strategy:
            conds.append("list_contains(strategies, $strategy)")
            params["strategy"] = self.strategy
        if self.text:
            conds.append(TEXT[kind])
            params["q"] = literal_pattern(self.text)
        for i, (op, bounds) in enumerate((("<=", self.score_max), (">=", self.score_min))):
            for j, (name, value) in enumerate(sorted(bounds.items())):
                conds.append(f"list_filter(scores, lambda s: s.name = $sn{i}_{j})[1].value {op} $sv{i}_{j}")
                params[f"sn{i}_{j}"], params[f"sv{i}_{j}"] = name, value
        return conds, params

    @property
    def active(self) -> bool:
        return bool(self.equals or self.strategy or self.text or self.score_min or self.score_max)


@dataclass(frozen=True)
class Shard:
    rel: str  # path relative to the run folder: the id a page's links use
    path: Path
    rows: int


@dataclass
class Page:
    rows: list[dict[str, Any]]  # each with `_shard` and `_row`: where the full record is
    next_cursor: str | None
    matching: int | None  # None: the count ran out of time
    capped: bool  # matching is a lower bound (COUNT_CAP reached)
    seconds: float


class RunView:
    """Read-only queries over one run folder. Thread-safe: each call uses its own DuckDB cursor."""

    def __init__(self, root: Path, *, threads: int = 2, memory_limit: str = "256MB") -> None:
        import duckdb

        self.root = root
        # An in-memory database with a memory ceiling and no spill folder: nothing is ever written, not even a temp
        # file.
        self._db = duckdb.connect(config={"threads": threads, "memory_limit": memory_limit, "temp_directory": ""})
        # Footers are read once per file, not once per query: an output of 167 unit shards would re-read them on every
        # page.
        # A cached footer is used only while the file's modification time is unchanged, so a rewritten shard is read
        # afresh.
        self._db.execute("SET GLOBAL parquet_metadata_cache = true")
        self._facets: dict[tuple[str, tuple[tuple[str, int], ...]], dict[str, list[tuple[str, int]]]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    # -- shards ------------------------------------------------------------------------------------
    def shards(self, output: Output) -> list[Shard]:
        base = self.root / output.folder
        folders = (
            sorted(p for p in base.iterdir() if p.is_dir()) if output.name == "rejects" and base.is_dir() else [base]
        )
        return [
            Shard(info.path.relative_to(self.root).as_posix(), info.path, info.rows)
            for folder in folders
            for info in list_shards(folder)
            if info.path.suffix
            == ".parquet"  # Arrow IPC shards (no stage writes them today) are not readable by DuckDB
        ]

    def counts(self) -> dict[str, int | None]:
        """Rows per output from the completion markers (no data read); None where the output has no shards."""
        return {
            name: (sum(s.rows for s in shards) if (shards := self.shards(o)) else None) for name, o in OUTPUTS.items()
        }

    def reject_reasons(self) -> list[tuple[str, str, int]]:
        shards = self.shards(OUTPUTS["rejects"])
        if not shards:
            return []
        sql = f"SELECT stage, reason, count(*) FROM {_scan()} GROUP BY ALL ORDER BY 3 DESC, 1, 2"
        return [tuple(r) for r in self._run(sql, {"files": [str(s.path) for s in shards]})]  # type: ignore[misc]

    # -- facets --------------------------------------------------------------------------------------
    def facets(self, output: Output) -> dict[str, list[tuple[str, int]]]:
        """Distinct values (with counts) of each facet column, and the score names; cached until the shard set
        changes."""
        shards = self.shards(output)
        key = (output.name, tuple((s.rel, s.rows) for s in shards))
        with self._lock:
            if key in self._facets:
                return self._facets[key]
        out: dict[str, list[tuple[str, int]]] = {}
        if shards:
            files = {"files": [str(s.path) for s in shards]}
            for facet in FACETS[output.kind]:
                value = "unnest(strategies)" if facet == "strategy" else facet
                sql = (
                    f"SELECT v, count(*) FROM (SELECT {value} AS v FROM {_scan()}) WHERE v IS NOT NULL GROUP BY v "
                    "ORDER BY 2 DESC, 1 LIMIT 500"
                )
                out[facet] = [tuple(r) for r in self._run(sql, files)]  # type: ignore[misc]
            if output.kind == "dialogue":
                sql = f"SELECT DISTINCT unnest(list_transform(scores, lambda s: s.name)) FROM {_scan()} ORDER BY 1"
                out["score"] = [(r[0], 0) for r in self._run(sql, files) if r[0] is not None]
        with self._lock:
            self._facets[key] = out
        return out

    # -- pages ---------------------------------------------------------------------------------------
    def page(self, output: Output, filters: Filters, cursor: str | None = None, limit: int = PAGE_ROWS) -> Page:
        t0 = time.perf_counter()
        shards = self.shards(output)
        by_rel = {s.rel: i for i, s in enumerate(shards)}
        conds, params = filters.sql(output.kind)
        start = 0
        if cursor:
            rel, _, row = cursor.rpartition(":")
            if rel not in by_rel or not row.isdigit():
                raise FilterError(
                    f"after={cursor!r}: not a position in {output.name} (the run changed?); start from the first page"
                )
            start = by_rel[rel]
            conds.append("NOT (filename = $after_file AND file_row_number <= $after_row)")
            params |= {"after_file": str(shards[start].path), "after_row": int(row)}
        if start >= len(shards):
            return Page([], None, 0, False, time.perf_counter() - t0)
        params["files"] = [str(s.path) for s in shards[start:]]
        where = f"WHERE {' AND '.join(conds)}" if conds else ""
        # No ORDER BY: DuckDB keeps the scan's order (preserve_insertion_order), which is shard order then row order.
        sql = (
            f"SELECT {LIST_COLUMNS[output.kind]}, filename AS _file, file_row_number AS _row FROM {_scan()} {where} "
            f"LIMIT {limit + 1}"
        )
        rel_of = {str(s.path): s.rel for s in shards}
        rows = []
        for record in self._dicts(sql, params):
            record["_shard"] = rel_of[record.pop("_file")]
            rows.append(record)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = f"{rows[-1]['_shard']}:{rows[-1]['_row']}" if more else None
        matching, capped = self._count(output, shards, filters, first_page=not cursor, shown=len(rows), more=more)
        return Page(rows, next_cursor, matching, capped, time.perf_counter() - t0)

    def _count(
        self, output: Output, shards: list[Shard], filters: Filters, *, first_page: bool, shown: int, more: bool
    ) -> tuple[int | None, bool]:
        if not filters.active:
            return sum(s.rows for s in shards), False  # from the markers: free
        if first_page and not more:
            return shown, False  # the page already holds every match
        conds, params = filters.sql(output.kind)
        params["files"] = [str(s.path) for s in shards]
        sql = f"SELECT count(*) FROM (SELECT 1 FROM {_scan()} WHERE {' AND '.join(conds)} LIMIT {COUNT_CAP + 1})"
        rows = self._run(sql, params, budget_s=COUNT_BUDGET_S)
        if rows is None:
            return None, False
        n = rows[0][0]
        return min(n, COUNT_CAP), n > COUNT_CAP

    # -- single records ------------------------------------------------------------------------------
    def record(self, output: Output, shard: str, row: int) -> dict[str, Any] | None:
        """The full record at (shard, row), or None. `shard` must be one of the output's complete shards (no other path
        is read)."""
        match = next((s for s in self.shards(output) if s.rel == shard), None)
        if match is None:
            return None
        sql = (
            "SELECT * EXCLUDE (file_row_number) FROM read_parquet($file, file_row_number=true) WHERE file_row_number "
            "= $row"
        )
        found = self._dicts(sql, {"file": str(match.path), "row": row})
        return found[0] if found else None

    def find(self, output: Output, column: str, value: str, limit: int = 1) -> list[tuple[str, int]]:
        """(shard, row) of records whose `column` equals `value` (an id, a seed id), in shard order."""
        if column not in EQUALS[output.kind]:
            raise FilterError(f"{column}: not a column of {output.name}")
        shards = self.shards(output)
        if not shards:
            return []
        rel_of = {str(s.path): s.rel for s in shards}
        sql = f"SELECT filename, file_row_number FROM {_scan()} WHERE {column} = $v LIMIT {int(limit)}"
        return [(rel_of[f], r) for f, r in self._run(sql, {"files": list(rel_of), "v": value})]  # type: ignore[union-attr]

    def seed(self, seed_id: str) -> tuple[str, dict[str, Any]] | None:
        """A seed by id from seeds/ or holdout/, with the output it is in."""
        for name in ("seeds", "holdout"):
            hits = self.find(OUTPUTS[name], "id", seed_id)
            if hits:
                record = self.record(OUTPUTS[name], *hits[0])
                if record is not None:
                    return name, record
        return None

    def rejects_of(self, record_id: str) -> list[dict[str, Any]]:
        """Every reject row of one record id (a dialogue may be rejected by curation, a seed by the seeds stage)."""
        shards = self.shards(OUTPUTS["rejects"])
        if not shards:
            return []
        sql = (
            f"SELECT stage, reason, detail, field, record, filename AS _file, file_row_number AS _row FROM {_scan()} "
            "WHERE id = $v LIMIT 20"
        )
        rel_of = {str(s.path): s.rel for s in shards}
        out = self._dicts(sql, {"files": list(rel_of), "v": record_id})
        for r in out:
            r["_shard"] = rel_of[r.pop("_file")]
        return out

    def curate_settings(self) -> dict[str, Any]:
        """The curate section of the run's resolved config.yaml (thresholds a curated dialogue passed), or {}."""
        import yaml

        path = self.root / "config.yaml"
        try:
            cfg = yaml.safe_load(path.read_text()) if path.exists() else {}
        except (OSError, yaml.YAMLError) as exc:
            log.warning("%s: unreadable (%s); curate thresholds not shown", path, exc)
            return {}
        section = (cfg or {}).get("curate") if isinstance(cfg, dict) else None
        return section if isinstance(section, dict) else {}

    # -- plumbing ------------------------------------------------------------------------------------
    def _run(self, sql: str, params: dict[str, Any], *, budget_s: float | None = None) -> list[tuple[Any, ...]] | None:
        import duckdb

        cur = self._db.cursor()
        timer = threading.Timer(budget_s, cur.interrupt) if budget_s else None
        try:
            if timer:
                timer.start()
            return cur.execute(sql, params).fetchall()
        except duckdb.InterruptException:
            log.info("query stopped after its %.1f s budget: %s", budget_s, sql[:120])
            return None
        except duckdb.IOException as exc:  # a shard deleted or rewritten under the viewer (a new run over the folder)
            raise InputError(f"{self.root}: {exc}") from exc
        finally:
            if timer:
                timer.cancel()
            cur.close()

    def _dicts(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        cur = self._db.cursor()
        try:
            # Through Arrow rather than fetchall: DuckDB's own conversion of timestamps with a time zone needs pytz on
            # DuckDB 1.3 (the lowest we allow), pyarrow's does not. Every caller selects a bounded number of rows (a
            # LIMIT, or one record).
            return cur.sql(sql, params=params).to_arrow_table().to_pylist()
        finally:
            cur.close()


def _scan() -> str:
    # union_by_name: shards written before a column was added (schema v1 had no licence) still read, the column null.
    return "read_parquet($files, filename=true, file_row_number=true, union_by_name=true)"


def parse_record_json(text: str | None) -> Any:
    """A reject's `record` column (JSON of the record as far as it got), or the text itself if it is not JSON."""
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
