"""batched: fixed-size lists in order, read lazily."""

from __future__ import annotations

import pytest

from distill.batching import batched


def test_batches_in_order_with_a_short_last_one() -> None:
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched([], 3)) == []


def test_reads_the_next_item_only_after_a_batch_is_used() -> None:
    read: list[int] = []

    def source():
        for i in range(4):
            read.append(i)
            yield i

    batches = batched(source(), 2)
    assert next(batches) == [0, 1] and read == [0, 1]


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="batch size"):
        list(batched([1], 0))
