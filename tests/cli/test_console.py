"""The quiet console: our lines on the terminal, everything a stage's engines print (Python, C-level writes, child
processes) in <run>/logs/<stage>.log; our own warnings once each on the terminal; --verbose leaves output alone."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from distill.cli.console import eta_text, rate_text
from distill.progress import Update, report, reporting

SCRIPT = textwrap.dedent(
    """
    import logging, os, subprocess, sys
    from pathlib import Path
    from distill.cli.console import RunConsole
    from distill.progress import report

    logging.basicConfig(level=logging.INFO)
    verbose = sys.argv[2] == "verbose"
    with RunConsole(Path(sys.argv[1]), verbose=verbose) as console:
        def stage():
            print("engine: python print")
            os.write(1, b"engine: raw descriptor write\\n")
            os.write(2, b"engine: raw stderr write\\n")
            subprocess.run([sys.executable, "-c", "print('engine: child process')"], check=True)
            logging.getLogger("vllm.engine").warning("engine: a library warning")
            for _ in range(3):
                logging.getLogger("distill.curate").warning("fell back to the lexical scorer")
            report("generate", 1, 2, dialogues=1)
            return 7
        assert console.run("generate", stage) == 7
        console.line("generate: 2 units -> 2 dialogues")
    print("after: the terminal again")
    """
)


def run_script(tmp_path: Path, mode: str) -> tuple[list[str], Path]:
    logs = tmp_path / mode / "logs"
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(logs), mode], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return (proc.stdout + proc.stderr).splitlines(), logs / "generate.log"


def test_engine_output_goes_to_the_stage_log_and_our_lines_to_the_terminal(tmp_path: Path) -> None:
    console, log = run_script(tmp_path, "quiet")
    assert console == [
        "warning: fell back to the lexical scorer",
        "generate: 2 units -> 2 dialogues",
        "after: the terminal again",
    ]
    text = log.read_text()
    for line in ("python print", "raw descriptor write", "raw stderr write", "child process", "a library warning"):
        assert f"engine: {line}" in text
    assert text.count("fell back to the lexical scorer") == 3  # the log keeps every one; the terminal shows it once
    assert text.startswith("===== generate ")


def test_verbose_keeps_everything_on_the_terminal(tmp_path: Path) -> None:
    console, log = run_script(tmp_path, "verbose")
    assert "engine: child process" in console and "engine: raw stderr write" in console
    assert "generate: 2 units -> 2 dialogues" in console
    assert not log.exists()


def test_reports_reach_the_installed_display_only_while_installed() -> None:
    seen: list[Update] = []
    report("seeds", 1)  # nobody watching: a no-op
    with reporting(seen.append):
        report("curate", 2, 4, unit="passes", curated=3)
    report("curate", 3, 4)
    assert seen == [Update("curate", 2, 4, "passes", {"curated": 3})]


def test_rates_and_eta_read_as_a_person_expects() -> None:
    update = Update("generate", 30, 90, "units", {"rejected": 2, "completion_tokens": 6000})
    assert rate_text(update, 60.0) == "0.50 units/s · rejected 2 · 100 tok/s"
    assert eta_text(update, 60.0) == "ETA 2:00"
    assert eta_text(Update("seeds", 5), 1.0) == ""  # no total, no ETA
