"""Filters: `name` + `__call__(record) -> bool | (False, reason)`, and the one loop that applies a list of them.

The loop stops at the first filter that drops a record, counts `kept` and `dropped/<filter>/<reason>`, and
hands every drop to a reject sink with its reason, so nothing leaves the stage without a trace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

from distill.records import make_reject
from distill.stats import StageStats

Verdict = bool | tuple[bool, str]


@runtime_checkable
class Filter(Protocol):
    name: str

    def __call__(self, record: dict[str, Any]) -> Verdict: ...


def verdict(result: Verdict) -> tuple[bool, str]:
    """Normalize a filter's answer to (keep, reason); a bare False gets the reason `rejected`."""
    if isinstance(result, tuple):
        keep, reason = result
        return bool(keep), reason or "rejected"
    return bool(result), "" if result else "rejected"


class FilterDrop(tuple):
    """`(False, reason)` that also carries a human-readable `detail` for the reject row (still a 2-tuple)."""

    def __new__(cls, reason: str, detail: str = "") -> FilterDrop:
        return super().__new__(cls, (False, reason))

    def __init__(self, reason: str, detail: str = "") -> None:
        self.detail = detail


def drop(reason: str, detail: str = "") -> FilterDrop:
    return FilterDrop(reason, detail)


def apply_filters(
    records: Iterable[dict[str, Any]],
    filters: list[Filter],
    stats: StageStats,
    on_reject: Callable[[dict[str, Any]], None],
    *,
    stage: str,
    kept_key: str = "kept",
) -> Iterator[dict[str, Any]]:
    """Yield the records every filter keeps (counted under `kept_key`); each drop becomes a reject row for
    `on_reject`."""
    for record in records:
        for flt in filters:
            result = flt(record)
            keep, reason = verdict(result)
            if not keep:
                stats.add(f"dropped/{flt.name}/{reason}")
                detail = getattr(result, "detail", "") or reason.replace("_", " ")
                on_reject(make_reject(stage, reason, f"[{flt.name}] {detail}", record=record))
                break
        else:
            stats.add(kept_key)
            yield record
