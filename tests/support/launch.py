"""Launching the project's own commands as child processes, the way users start them: `python -m ray_jobs.generate`
(in its own session, so a test can SIGKILL the whole tree like a lost node) and `python -m distill.cli run`."""

from __future__ import annotations

import functools
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]


def launch_generate(config: Path, *extra: str) -> subprocess.Popen:
    # Own session, so the whole process tree (driver + the Ray it started) can be killed like a node going down.
    return subprocess.Popen(
        [sys.executable, "-m", "ray_jobs.generate", "--config", str(config), *extra],
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "RAY_ADDRESS": "", "PYTHONUNBUFFERED": "1"},
    )


def write_kill_config(tmp_path: Path, name: str, dryrun_latency_s: float) -> Path:
    """A generate config worth killing: 2 dryrun actors on Ray, batches of 2 units, 4 units per seed (2 modes x 2)."""
    data: dict[str, Any] = {
        "run": {"name": name, "output_dir": str(tmp_path / "runs")},
        "teacher": {"backend": "dryrun", "placement": "ray", "num_actors": 2, "dryrun_latency_s": dryrun_latency_s},
        "generate": {
            "modes": ["continue", "selfchat"], "variants_per_seed": 2, "units_per_shard": 2, "selfchat_turns": 2,
            "continue_turns": 1,
        },
    }  # fmt: skip
    config = tmp_path / "gen.yaml"
    config.write_text(yaml.safe_dump(data))
    return config


def run_distill(*args: str, env: dict[str, str] | None = None, timeout_s: float = 600) -> subprocess.CompletedProcess:
    """`python -m distill.cli run ...` from the repository root, on a Ray of its own (RAY_ADDRESS unset)."""
    return subprocess.run(
        [sys.executable, "-m", "distill.cli", "run", *args],
        capture_output=True, text=True, cwd=REPO, timeout=timeout_s,
        env={**os.environ, "RAY_ADDRESS": "", "PYTHONUNBUFFERED": "1", **(env or {})},
    )  # fmt: skip


def ray_token_env() -> dict[str, str]:
    """The environment of a token-protected Ray cluster (tests/cluster's `ray start --head`) and of its clients.

    Ray 2.5x+ guards the job server with a token, so both sides run in token mode, but only in their own environment:
    set in the test process, a Ray imported before keeps the mode it read, and the local clusters later tests start
    (their GCS inherits the variable) would refuse that process's unauthenticated client. The token is the session's
    own (`RAY_AUTH_TOKEN`), not ~/.ray/auth_token: a fresh machine has no such file, and the head did not start."""
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": _session_token(),
    }


@functools.cache
def _session_token() -> str:
    return secrets.token_hex(32)  # Ray's own token format: 256 bits, hex
