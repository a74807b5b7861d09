"""The loopback Files + Batch server of tests/teachers, loaded by path (test packages do not import each other)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("_batch_api_server", Path(__file__).parent.parent / "teachers" / "batch_api_server.py")
_module = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(_module)  # type: ignore[union-attr]

BatchAPIServer = _module.BatchAPIServer
request_of_line = _module.request_of_line
answer_line = _module.answer_line
error_line = _module.error_line
