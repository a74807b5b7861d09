"""Evaluation fixtures: the headless Chromium of tests/report (loaded from its conftest, so there is one driver)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _report_conftest() -> Any:
    path = Path(__file__).parent.parent / "report" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_report_browser", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    browser_module = _report_conftest()
    binary = browser_module.chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium); the browser check needs it")
    pytest.importorskip("websockets", reason="the browser check drives Chromium with the `websockets` package (pip install websockets)")
    browser = browser_module.Chromium(binary)
    yield browser
    browser.close()
