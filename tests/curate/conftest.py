"""Fixtures for curation tests: a run config in tmp_path (the dialogues come from tests.support.curated)."""

from __future__ import annotations

import pytest

from distill.config import RunConfig, load_config


@pytest.fixture
def run_cfg(tmp_path) -> RunConfig:
    return load_config(None, [f"run.output_dir={tmp_path}", "run.name=curate-test", "curate.semantic_threshold=null"])
