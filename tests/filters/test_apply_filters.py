from __future__ import annotations

import json

from distill.filters.base import apply_filters, drop
from distill.records import REJECT, to_table
from distill.stats import StageStats


class MinLength:
    name = "min_length"

    def __call__(self, record):
        return True if len(record["text"]) >= 3 else drop("too_short", f"{len(record['text'])} characters")


class NoDigits:
    name = "no_digits"

    def __call__(self, record):
        return (False, "has_digit") if any(c.isdigit() for c in record["text"]) else True


class Bare:
    name = "bare"

    def __call__(self, record):
        return record["text"] != "bad"


def test_loop_counts_and_rejects_every_drop():
    records = [{"id": str(i), "text": t} for i, t in enumerate(["hello", "hi", "abc1", "bad", "fine", "x9"])]
    stats, rejects = StageStats("curate"), []
    kept = list(apply_filters(records, [MinLength(), NoDigits(), Bare()], stats, rejects.append, stage="curate"))
    assert [r["id"] for r in kept] == ["0", "4"]
    assert stats.counters == {
        "kept": 2,
        "dropped/min_length/too_short": 2,
        "dropped/no_digits/has_digit": 1,
        "dropped/bare/rejected": 1,
    }
    # The first filter that drops decides ("x9" is too short before it has a digit); every drop is a valid REJECT row.
    assert {r["id"]: r["reason"] for r in rejects} == {
        "1": "too_short",
        "5": "too_short",
        "2": "has_digit",
        "3": "rejected",
    }
    assert rejects[0]["detail"] == "[min_length] 2 characters" and json.loads(rejects[0]["record"])["text"] == "hi"
    assert to_table(rejects, REJECT).num_rows == len(records) - len(kept)
