"""distinct-n, unique openings and length on hand-made texts with values worked out by hand."""

from __future__ import annotations

import pytest

from distill.evaluate.diversity import distinct_n, diversity_metrics, length_stats, tokens, unique_openings


def test_tokens_lowercase_words_and_contractions() -> None:
    assert tokens("I'm SO sorry, truly.") == ["i'm", "so", "sorry", "truly"]


def test_distinct_n_exact() -> None:
    texts = ["a b a b", "a c"]
    # unigrams: a b a b a c -> 6 total, {a, b, c} distinct
    assert distinct_n(texts, 1) == pytest.approx(3 / 6)
    # bigrams: (a b) (b a) (a b) | (a c) -> 4 total, 3 distinct; n-grams never span two texts
    assert distinct_n(texts, 2) == pytest.approx(3 / 4)


def test_distinct_n_all_repeated_and_empty() -> None:
    assert distinct_n(["same same same"], 1) == pytest.approx(1 / 3)
    assert distinct_n(["one"], 2) is None
    assert distinct_n([], 1) is None


def test_unique_openings() -> None:
    texts = ["I'm so sorry to hear that", "I'm so sorry you lost him", "That sounds really hard"]
    assert unique_openings(texts) == pytest.approx(2 / 3)
    assert unique_openings(texts, k=4) == pytest.approx(1.0)
    assert unique_openings([]) is None


def test_length_and_bundle() -> None:
    stats = length_stats(["one two three", "four"])
    assert stats == {"words_mean": 2.0, "words_median": 2.0, "chars_mean": 8.5}
    assert diversity_metrics(["a b", "a b"]) == {"distinct_1": 0.5, "distinct_2": 0.5, "unique_openings": 0.5}
