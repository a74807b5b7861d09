"""Where a benchmark's figures go: bench/results/<name>.json (with the command) and <name>.md, which
`python -m bench` gathers into BENCHMARKS.md."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

# (figures, the command that produced them, the machine line) -> the benchmark's Markdown section
Render = Callable[[dict[str, Any], str, str], str]


def machine_line() -> str:
    """The machine and how busy it was as the benchmark ended (it is shared: the load says how far to trust times)."""
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}; "
        f"1-min load average {os.getloadavg()[0]:.1f} after."
    )


def publish(name: str, argv: Sequence[str], result: dict[str, Any], render: Render) -> None:
    """Write `python -m bench.<name> <argv>`'s figures (JSON, with that command) and its Markdown section; print it."""
    command = f"python -m bench.{name}" + "".join(f" {a}" for a in argv)
    markdown = render(result, command, machine_line())
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps({**result, "command": command}, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)
