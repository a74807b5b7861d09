"""Suite-wide settings: offline hubs, quiet tokenizers, and a per-test cache so nothing leaks into ~/.cache."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Set before any test imports transformers/datasets: this machine (and CI) has no model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ASSETS = Path(__file__).parent / "assets"
REPO = Path(__file__).parent.parent


@pytest.fixture
def assets() -> Path:
    return ASSETS


@pytest.fixture
def seed_assets() -> Path:
    return ASSETS / "seeds"


@pytest.fixture(autouse=True, scope="module")
def _no_ray_across_modules():
    """Stages join (or start) a Ray cluster in-process and keep it; modules must not inherit another module's cluster."""
    yield
    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            ray.shutdown()
