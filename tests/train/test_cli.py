"""`distill train` and `python -m ray_jobs.train` as a user meets them: help, and one-line errors for missing input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from distill.cli import main


def test_train_without_curated_data_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", f"run.output_dir={tmp_path}", "run.name=empty"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: no curated dialogues in ") and "curate" in err and len(err.splitlines()) == 1


def test_dpo_without_pairs_names_the_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", f"run.output_dir={tmp_path}", "run.name=empty", "train.recipe=dpo"])
    assert code == 2 and f"{tmp_path}/empty/prefs" in capsys.readouterr().err


def test_ray_job_entrypoint_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ray_jobs.train", "--help"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0 and "--config" in out.stdout
