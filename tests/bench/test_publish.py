"""bench.publish: every benchmark's figures land as <name>.json (with the command) and <name>.md, and are printed."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from bench import publish as publish_module
from bench.publish import machine_line, publish


def test_writes_json_with_the_command_and_the_rendered_section(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(publish_module, "RESULTS", tmp_path / "results")

    def render(result: dict[str, Any], command: str, machine: str) -> str:
        return f"## Judge parsing\n\n{result['items']} items. Command: `{command}`. {machine}\n"

    publish("judge_parse", ["--items", "4"], {"items": 4}, render)
    command = "python -m bench.judge_parse --items 4"
    assert json.loads((tmp_path / "results" / "judge_parse.json").read_text()) == {"items": 4, "command": command}
    markdown = (tmp_path / "results" / "judge_parse.md").read_text()
    assert markdown.startswith(f"## Judge parsing\n\n4 items. Command: `{command}`. Machine: ")
    assert markdown in capsys.readouterr().out


def test_the_machine_line_names_cores_python_and_load() -> None:
    line = machine_line()
    assert line.startswith("Machine: ") and "CPU cores, Python " in line and "1-min load average" in line


@pytest.mark.parametrize("module", ["bench.emotion_inference", "bench.generate_styles", "bench.judge_parse"])
def test_the_benchmarks_publish_through_it(module: str) -> None:
    assert importlib.import_module(module).publish is publish
