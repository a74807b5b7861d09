"""Fixtures for dedup tests: a seeded random source (the dialogues come from tests.support.random_dialogues)."""

from __future__ import annotations

import random

import pytest


@pytest.fixture
def rng() -> random.Random:
    return random.Random(7)
