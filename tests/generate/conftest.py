"""Fixtures for generation tests: a run config in tmp_path (seed rows come from tests.support.seeds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from distill.config import RunConfig, load_config


@pytest.fixture
def make_cfg(tmp_path: Path):
    def make(*overrides: str) -> RunConfig:
        return load_config(None, [f"run.output_dir={tmp_path / 'runs'}", "run.name=t", *overrides])

    return make
