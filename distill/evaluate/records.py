"""The evaluation record: one response of one system to one held-out prompt, with its scores and judge verdicts."""

from __future__ import annotations

import pyarrow as pa

from distill.records import MESSAGES, SCHEMA_VERSION, SCORES

EVAL_RESPONSE = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),  # make_id("eval", system, prompt_id)
        pa.field("prompt_id", pa.string(), nullable=False),  # the held-out seed id
        pa.field("system", pa.string(), nullable=False),  # base | student | teacher
        pa.field("model", pa.string()),
        pa.field("backend", pa.string()),
        pa.field("emotion", pa.string()),
        pa.field("polarity", pa.string()),
        pa.field("source", pa.string()),
        pa.field("context", MESSAGES, nullable=False),
        pa.field("reference", pa.string()),
        pa.field("response", pa.string(), nullable=False),
        pa.field("finish_reason", pa.string()),
        pa.field("completion_tokens", pa.int64()),
        pa.field("rating", pa.string()),  # good | okay | bad, null when not judged or the reply was unreadable
        pa.field("scores", SCORES),  # epitome_*, diff_epitome_*, bertscore_*, vader_*, cehs_*, words
        pa.field("judge_failures", pa.map_(pa.string(), pa.string())),  # rubric -> snake_case reason
        pa.field("judge_details", pa.map_(pa.string(), pa.string())),  # rubric -> what exactly was wrong
    ],
    metadata={b"distill.kind": b"eval_response", b"distill.schema_version": SCHEMA_VERSION.encode()},
)
