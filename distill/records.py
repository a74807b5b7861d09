"""Record kinds exchanged between stages, each with one explicit Arrow schema.

Records are plain dicts at runtime (what pyarrow produces and consumes without copies); the schemas
below are the contract. `SCHEMA_VERSION` is stored in every shard's metadata and checked on read.
Messages use OpenAI roles: `user` is the help-seeker, `assistant` the supporter, optional leading `system`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pyarrow as pa

SCHEMA_VERSION = "2"  # 2: license (and source) on every record kind made from seeds
ROLES = ("system", "user", "assistant")
MODES = ("rewrite", "continue", "selfchat")
STRATEGIES = ("questioning", "comfort", "recognition", "listening", "trust", "emotional_support")

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
MESSAGES = pa.list_(MESSAGE)
# Scores are an open set (scorers are pluggable). A list of (name, value) structs keeps the schema fixed and,
# unlike an Arrow map, loads in `datasets`; writers may pass a plain dict, ShardWriter converts it.
SCORE = pa.struct([("name", pa.string()), ("value", pa.float64())])
SCORES = pa.list_(SCORE)
# The score the dedup keeper rule and `curate.min_empathy` read: EPITOME ER+IP+EX, 0..6 (lexical or classifier).
EMPATHY = "empathy"


def _schema(kind: str, fields: list[pa.Field]) -> pa.Schema:
    return pa.schema(
        fields, metadata={b"distill.kind": kind.encode(), b"distill.schema_version": SCHEMA_VERSION.encode()}
    )


SEED = _schema(
    "seed",
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("language", pa.string()),
        pa.field("emotion", pa.string()),
        pa.field("situation", pa.string()),
        pa.field("messages", MESSAGES, nullable=False),
        pa.field("metadata", pa.string()),  # JSON object: source-specific extras (strategies, problem type, ...)
        pa.field("license", pa.string()),  # SPDX id of the source's licence (distill/seeds/licenses.py)
    ],
)

DIALOGUE = _schema(
    "dialogue",
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("seed_id", pa.string(), nullable=False),
        pa.field("mode", pa.string(), nullable=False),
        pa.field("variant", pa.int32(), nullable=False),
        pa.field("prompt_version", pa.string()),
        pa.field("language", pa.string()),
        pa.field("emotion", pa.string()),
        pa.field("strategies", pa.list_(pa.string())),
        pa.field("messages", MESSAGES, nullable=False),
        pa.field("teacher", pa.struct([("model", pa.string()), ("revision", pa.string()), ("backend", pa.string())])),
        pa.field(
            "sampling",
            pa.struct(
                [
                    ("temperature", pa.float64()),
                    ("top_p", pa.float64()),
                    ("max_tokens", pa.int32()),
                    ("seed", pa.int64()),
                ]
            ),
        ),
        pa.field("usage", pa.struct([("prompt_tokens", pa.int64()), ("completion_tokens", pa.int64())])),
        pa.field("finish_reason", pa.string()),
        pa.field("scores", SCORES),
        pa.field("created_at", pa.timestamp("ms", tz="UTC")),
        pa.field("source", pa.string()),  # the seed's source and licence, carried so every row keeps its lineage
        pa.field("license", pa.string()),
    ],
)

REJECT = _schema(
    "reject",
    [
        pa.field("id", pa.string()),  # id of the record, when it got far enough to have one
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),  # snake_case, countable
        pa.field("detail", pa.string()),  # human-readable: what exactly was wrong
        pa.field("source_file", pa.string()),
        pa.field("source_row", pa.int64()),  # 1-based line / row / item index in source_file
        pa.field("field", pa.string()),
        pa.field("record", pa.string()),  # JSON of the record as far as it got
    ],
)

SAMPLE_WINDOW = _schema(
    "sample_window",
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("dialogue_id", pa.string(), nullable=False),
        pa.field("seed_id", pa.string()),
        pa.field("turn", pa.int32(), nullable=False),  # index of the response in the dialogue's messages
        pa.field("emotion", pa.string()),
        pa.field("context", MESSAGES, nullable=False),
        pa.field("response", pa.string(), nullable=False),
        pa.field("source", pa.string()),
        pa.field("license", pa.string()),
    ],
)

PREFERENCE_PAIR = _schema(
    "preference_pair",
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("dialogue_id", pa.string()),
        pa.field("prompt", MESSAGES, nullable=False),
        pa.field("chosen", pa.string(), nullable=False),
        pa.field("rejected", pa.string(), nullable=False),
        pa.field("emotion", pa.string()),
        pa.field("rejected_emotion", pa.string()),
        pa.field("method", pa.string()),  # "cross_dialogue" | "teacher"
        pa.field("source", pa.string()),
        pa.field("license", pa.string()),  # an SPDX AND expression when the rejected reply comes from another dialogue
    ],
)

SCHEMAS: dict[str, pa.Schema] = {
    "seed": SEED,
    "dialogue": DIALOGUE,
    "reject": REJECT,
    "sample_window": SAMPLE_WINDOW,
    "preference_pair": PREFERENCE_PAIR,
}


def make_id(*parts: object) -> str:
    """A deterministic 16-hex-char id from its parts: same inputs, same id, on every machine and run."""
    joined = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(joined.encode("utf-8"), digest_size=8).hexdigest()


def scores_dict(value: Any) -> dict[str, float]:
    """Scores as a dict, from any form they travel in: a dict, [{name, value}] rows, or (name, value) pairs."""
    if not value:
        return {}
    if isinstance(value, dict):
        return dict(value)
    out: dict[str, float] = {}
    for item in value:
        if isinstance(item, dict):
            out[item["name"]] = item["value"]
        else:
            name, score = item
            out[name] = score
    return out


def scores_rows(scores: dict[str, float]) -> list[dict[str, Any]]:
    """A scores dict in its stored form, sorted by name so equal scores give equal bytes."""
    return [{"name": k, "value": None if v is None else float(v)} for k, v in sorted(scores.items())]


def make_reject(
    stage: str,
    reason: str,
    detail: str,
    *,
    record: dict[str, Any] | None = None,
    record_id: str | None = None,
    source_file: str | None = None,
    source_row: int | None = None,
    field: str | None = None,
) -> dict[str, Any]:
    """A Reject row. `record` is kept as JSON so any record kind fits one reject schema."""
    return {
        "id": record_id if record_id is not None else (record or {}).get("id"),
        "stage": stage,
        "reason": reason,
        "detail": detail,
        "source_file": source_file,
        "source_row": source_row,
        "field": field,
        "record": json.dumps(record, ensure_ascii=False, default=str) if record is not None else None,
    }


def to_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows -> Table with exactly `schema` (never inferred); a row that does not fit raises naming the field."""
    try:
        return pa.Table.from_pylist(rows, schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, KeyError) as exc:
        kind = schema.metadata.get(b"distill.kind", b"?").decode()
        raise ValueError(f"rows do not fit the {kind} schema: {exc}") from exc
