"""Stages submitted to a real Ray cluster with Ray's own CLI and with `distill submit`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from distill.shards import count_rows
from tests.support.launch import ray_token_env

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def env() -> dict[str, str]:
    return ray_token_env()


def test_ray_job_submit_runs_a_stage(ray_head: str, tmp_path: Path) -> None:
    out = subprocess.run(
        [
            f"{BIN}/ray", "job", "submit", "--address", ray_head, "--working-dir", str(REPO), "--",
            "python", "-m", "ray_jobs.seeds", "--config", "demo", f"run.output_dir={tmp_path}", "run.name=via-ray-cli",
        ],
        capture_output=True, text=True, env=env(), timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    run = tmp_path / "via-ray-cli"
    kept = json.loads((run / "stats" / "seeds.json").read_text())["counters"]["records_kept"]
    assert kept > 0 and count_rows(run / "seeds") + count_rows(run / "holdout") == kept


def test_distill_submit_runs_a_stage_and_forwards_secrets_unprinted(ray_head: str, tmp_path: Path) -> None:
    secret = "sk-test-PLANTED-0123456789"
    out = subprocess.run(
        [
            f"{BIN}/distill",
            "submit",
            "distill/configs/demo.yaml",
            f"run.output_dir={tmp_path}",
            "run.name=via-distill",
            "--address",
            ray_head,
            "--stage",
            "seeds",
            "--working-dir",
            str(REPO),
            "--secret-env",
            "DISTILL_TEST_KEY",
        ],
        capture_output=True,
        text=True,
        env={**env(), "DISTILL_TEST_KEY": secret},
        cwd=REPO,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "SUCCEEDED" in out.stderr
    assert "seeds: " in out.stdout  # the job's own log lines were followed
    assert secret not in out.stdout + out.stderr
    assert count_rows(tmp_path / "via-distill" / "seeds") > 0


def test_failing_job_exits_nonzero_with_both_clients(ray_head: str, tmp_path: Path) -> None:
    bad = ["generate.variants_per_seed=0", f"run.output_dir={tmp_path}"]
    ray_cli = subprocess.run(
        [f"{BIN}/ray", "job", "submit", "--address", ray_head, "--working-dir", str(REPO), "--",
         "python", "-m", "ray_jobs.seeds", "--config", "demo", *bad],
        capture_output=True, text=True, env=env(), timeout=300,
    )  # fmt: skip
    assert ray_cli.returncode != 0
    ours = subprocess.run(
        [
            f"{BIN}/distill",
            "submit",
            "demo",
            *bad,
            "--address",
            ray_head,
            "--stage",
            "seeds",
            "--working-dir",
            str(REPO),
        ],
        capture_output=True,
        text=True,
        env=env(),
        cwd=REPO,
        timeout=300,
    )
    assert ours.returncode == 1
    assert "FAILED" in ours.stderr
    assert "generate.variants_per_seed" in ours.stdout  # the job's one-line config error reached the user


def test_unreachable_job_server_is_one_line(tmp_path: Path) -> None:
    out = subprocess.run(
        [f"{BIN}/distill", "submit", "demo", "--address", "http://127.0.0.1:9", "--working-dir", str(REPO)],
        capture_output=True, text=True, env=env(), cwd=REPO, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2 and "cannot reach the Ray job server" in out.stderr and "Traceback" not in out.stderr
