"""The holdout split: each emotion's share held out by id, the same split whatever the order, bounded memory."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from distill.emotions import EMOTIONS
from distill.records import make_id
from distill.seeds.holdout import MARGIN, HoldoutSplit, is_holdout
from distill.stats import StageStats


def seeds(per_emotion: dict[str | None, int], tag: str = "s") -> list[tuple[dict, ...]]:
    return [({"id": make_id(tag, e, i), "emotion": e},) for e, n in per_emotion.items() for i in range(n)]


def split(records, fraction: float) -> tuple[set[str], set[str], StageStats]:
    held, kept, stats = set(), set(), StageStats("seeds")

    def write(record, is_held: bool) -> None:
        for seed in record:
            (held if is_held else kept).add(seed["id"])

    holdout = HoldoutSplit(fraction, write, stats)
    for record in records:
        holdout.add(record)
    holdout.finish()
    return held, kept, stats


def test_each_emotion_holds_out_its_share_with_its_smallest_ids() -> None:
    records = seeds({"sad": 20, "joyful": 40, "afraid": 10, None: 30})
    held, kept, stats = split(records, 0.1)
    assert held | kept == {r[0]["id"] for r in records} and not held & kept  # nothing lost, nothing twice
    by_emotion = Counter(r[0]["emotion"] for r in records if r[0]["id"] in held)
    assert by_emotion == {"sad": 2, "joyful": 4, "afraid": 1, None: 3}
    for emotion in ("sad", "joyful", "afraid", None):
        ids = sorted(r[0]["id"] for r in records if r[0]["emotion"] == emotion)
        assert set(ids[: by_emotion[emotion]]) <= held
    c = stats.counters
    assert (c["holdout"], c["for_generation"], c["holdout_emotion/none"], c["holdout_emotion/joyful"]) == (10, 90, 3, 4)


def test_the_split_does_not_depend_on_the_order_of_the_seeds() -> None:
    records = seeds({e: 1 + i % 5 for i, e in enumerate(EMOTIONS)})
    first = split(records, 0.2)[0]
    for trial in range(3):
        shuffled = records[:]
        random.Random(trial).shuffle(shuffled)
        assert split(shuffled, 0.2)[0] == first
    assert split(sorted(records, key=lambda r: r[0]["id"], reverse=True), 0.2)[0] == first


@pytest.mark.parametrize(
    ("per_emotion", "fraction", "held"),
    [
        ({e: 1 for e in EMOTIONS[:14]}, 0.15, 2),  # one seed each: the quota goes to whole emotions, round(2.1)
        ({e: 3 for e in EMOTIONS}, 0.15, 14),  # round(14.4); no emotion gives more than one of its three
        ({"sad": 2}, 0.001, 1),  # at least one whenever two or more are kept
        ({"sad": 1}, 0.001, 0),
        ({e: 3 for e in EMOTIONS}, 0.0, 0),
    ],
)
def test_small_runs_round_the_total_and_always_hold_one_out(per_emotion, fraction: float, held: int) -> None:
    records = seeds(per_emotion)
    out, kept, _ = split(records, fraction)
    assert (len(out), len(kept)) == (held, len(records) - held)
    assert max(Counter(r[0]["emotion"] for r in records if r[0]["id"] in out).values(), default=0) <= 1


def test_memory_is_bounded_and_a_large_emotion_is_close_to_its_share() -> None:
    # Tags chosen so the ids' own cut misses both quotas by more than MARGIN: 420 of 3000 sad (450 wanted), 92 of 500
    # joyful (75).
    records = seeds({"sad": 3000}, tag="large3") + seeds({"joyful": 500}, tag="large7")
    written: list[str] = []
    holdout = HoldoutSplit(0.15, lambda record, _held: written.extend(s["id"] for s in record), StageStats("seeds"))
    for i, record in enumerate(records, start=1):
        holdout.add(record)
        assert i - len(written) <= 2 * 2 * MARGIN  # two emotions, two sides: the rest is already written
    holdout.finish()
    assert len(written) == len(records)
    held, _, _ = split(records, 0.15)
    for emotion, n in (("sad", 3000), ("joyful", 500)):
        natural = sum(is_holdout(r[0]["id"], 0.15) for r in records if r[0]["emotion"] == emotion)
        got = sum(r[0]["id"] in held for r in records if r[0]["emotion"] == emotion)
        quota = round(0.15 * n)
        assert abs(natural - quota) > MARGIN and abs(got - quota) == abs(natural - quota) - MARGIN  # MARGIN closer
        assert (got - quota) * (natural - quota) > 0


def test_a_long_conversations_windows_stay_together() -> None:
    windows = tuple({"id": make_id("window", i), "emotion": "sad"} for i in range(3))
    held, kept, stats = split([windows, *seeds({"sad": 3})], 0.5)
    ids = {w["id"] for w in windows}
    assert ids <= held or ids <= kept
    assert stats.counters["holdout"] + stats.counters["for_generation"] == 6
