"""Per-system, per-emotion and per-polarity aggregation of scored responses."""

from __future__ import annotations

import pytest

from distill.evaluate.aggregate import rating_counts, summarize_system


def row(
    rating: str | None, emotion: str | None, polarity: str | None, failure: str | None = None, words: float = 2.0
) -> dict:
    return {
        "response": "hello there", "rating": rating, "emotion": emotion, "polarity": polarity,
        "scores": {"words": words}, "judge_failures": {"empathy_rating": failure} if failure else {},
    }  # fmt: skip


def test_rating_counts_and_shares_exclude_failures() -> None:
    rows = [
        row("good", "sad", "negative"),
        row("bad", "sad", "negative"),
        row(None, "sad", "negative", failure="judge_unparseable"),
    ]
    c = rating_counts(rows)
    assert (c["n"], c["good"], c["okay"], c["bad"], c["failed"]) == (3, 1, 0, 1, 1)
    assert c["good_share"] == 0.5 and c["okay_share"] == 0.0
    assert c["failed_reasons"] == {"judge_unparseable": 1}


def test_unjudged_rows_are_neither_rated_nor_failed() -> None:
    rows = [{**row(None, "sad", "negative"), "judge_failures": None}]
    c = rating_counts(rows)
    assert c["failed"] == 0 and c["good_share"] is None


def test_summary_per_emotion_and_polarity() -> None:
    rows = [
        row("good", "sad", "negative", words=2), row("okay", "joyful", "positive", words=4),
        row("good", "joyful", "positive", words=6), row(None, None, None, failure="judge_empty"),
    ]  # fmt: skip
    s = summarize_system(rows)
    assert s["responses"] == 4
    assert set(s["per_emotion"]) == {"sad", "joyful", "unlabeled"}
    assert s["per_emotion"]["joyful"]["good"] == 1 and s["per_emotion"]["joyful"]["okay"] == 1
    assert s["per_emotion"]["joyful"]["scores"]["words"] == pytest.approx(5.0)
    assert s["per_polarity"]["positive"]["n"] == 2 and s["per_polarity"]["negative"]["good_share"] == 1.0
    assert s["judge"]["empathy_rating"]["failed"] == 1
    assert s["diversity"]["distinct_1"] == 0.25  # "hello there" four times: 2 distinct of 8
