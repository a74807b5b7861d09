"""The holdout split, stratified by emotion: `holdout_fraction` of each emotion's seeds go to `holdout/` (evaluation),
the rest to `seeds/` (generation).

Each emotion (unlabelled seeds are one more group) holds out its seeds with the smallest ids, as many as its share of
the whole: floor(fraction x its seeds), plus one for the groups with the largest remainders until the total is
round(fraction x all seeds), and at least one overall whenever the fraction is above 0 and two or more records are
kept. So 14 seeds of 14 emotions at 0.15 hold out 2 whole emotions' seeds, not a random 0 to 5, and 3,000 seeds of one
emotion hold out 450, not about 450. The split depends only on the set of seeds, never on their order in the files.

Streaming with bounded memory: ids are hashes, so a seed whose id falls under the cut (`is_holdout`) is held out and one
over it is not, except near the cut, where the `MARGIN` nearest seeds of each side and emotion wait in memory until the
end, when the quota moves the waiting ones across. The split is exact while an emotion's count under the cut is within
`MARGIN` of its quota (always for small runs; a large one is off by at most the binomial spread beyond that, which is a
fraction of a percent at a million seeds). The windows of one long conversation share text, so they travel together.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from distill.stats import StageStats

MARGIN = 16  # seeds per emotion and side of the cut kept in memory: 33 groups x 2 x 16 records at most
Record = tuple[dict[str, Any], ...]  # one source record's seeds: one, or a long conversation's windows


def is_holdout(seed_id: str, fraction: float) -> bool:
    """Which side of the cut an id falls on by itself (the quota moves only the seeds nearest it)."""
    return int(seed_id[:8], 16) / 0x1_0000_0000 < fraction


def _rank(record: Record) -> int:
    return int(record[0]["id"], 16)  # seed ids are 16 hex digits (records.make_id): a uniform position


@dataclass
class _Emotion:
    """One emotion's counts and its waiting seeds: the largest ids under the cut, the smallest over it."""

    records: int = 0
    held: int = 0  # written to holdout/ already
    smallest: int | None = None  # breaks ties between emotions with the same remainder
    under: list[tuple[int, Record]] = field(default_factory=list)  # min-heap: the top one is the farthest from the cut
    over: list[tuple[int, Record]] = field(default_factory=list)  # min-heap on -rank: likewise


class HoldoutSplit:
    """Seeds to `seeds/` or `holdout/`, stratified by emotion (see the module docstring). `add` each kept source record,
    then `finish` once: only then are the seeds nearest the cut written."""

    def __init__(self, fraction: float, write: Callable[[Record, bool], None], stats: StageStats) -> None:
        self.fraction = Fraction(repr(fraction))  # exact quotas: 0.1 x 30 is 3, not 3.0000000000000004
        self.write = write
        self.stats = stats
        self.emotions: dict[str | None, _Emotion] = {}

    def add(self, record: Record) -> None:
        if self.fraction == 0:
            self._write(record, False)
            return
        group = self.emotions.setdefault(record[0]["emotion"], _Emotion())
        rank = _rank(record)
        group.records += 1
        group.smallest = rank if group.smallest is None else min(group.smallest, rank)
        held = is_holdout(record[0]["id"], self.fraction)
        waiting = group.under if held else group.over
        item = (rank if held else -rank, record)
        if len(waiting) < MARGIN:
            heapq.heappush(waiting, item)
            return
        _, farthest = heapq.heappushpop(waiting, item)  # the one farthest from the cut can no longer be moved
        group.held += held
        self._write(farthest, held)

    def finish(self) -> None:
        for emotion, quota in self._quotas().items():
            group = self.emotions[emotion]
            under = [record for _, record in sorted(group.under)]  # nearest the cut last
            over = [record for _, record in sorted(group.over, reverse=True)]  # nearest the cut first
            short = quota - group.held - len(under)
            if short > 0:  # too few under the cut: the nearest over it are held out too
                under, over = under + over[:short], over[short:]
            elif short < 0:  # too many: the nearest under it go to generation
                keep = max(0, len(under) + short)
                under, over = under[:keep], under[keep:] + over
            for record in under:
                self._write(record, True)
            for record in over:
                self._write(record, False)
        self.emotions.clear()

    def _quotas(self) -> dict[str | None, int]:
        """Held-out records per emotion: largest remainders, ties to the emotion holding the smallest id."""
        total = sum(g.records for g in self.emotions.values())
        quotas = {e: int(self.fraction * g.records) for e, g in self.emotions.items()}
        wanted = int(self.fraction * total + Fraction(1, 2))
        if total >= 2:
            wanted = max(wanted, 1)
        remainders = sorted(
            (e for e, g in self.emotions.items() if self.fraction * g.records > quotas[e]),
            key=lambda e: (-(self.fraction * self.emotions[e].records - quotas[e]), self.emotions[e].smallest),
        )
        for emotion in remainders[: max(0, wanted - sum(quotas.values()))]:
            quotas[emotion] += 1
        return quotas

    def _write(self, record: Record, held: bool) -> None:
        self.write(record, held)
        for seed in record:
            self.stats.add("holdout" if held else "for_generation")
            if held:
                self.stats.add(f"holdout_emotion/{seed['emotion'] or 'none'}")
