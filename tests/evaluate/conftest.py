"""Evaluation fixtures: the headless Chromium of tests/report (loaded from its conftest, so there is one driver)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def _report_conftest() -> Any:
    path = Path(__file__).parent.parent / "report" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_report_browser", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


# The report tests' headless Chromium fixture itself (one definition of how the browser is started and skipped).
chromium = _report_conftest().chromium
