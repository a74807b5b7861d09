"""A real single-node Ray cluster on 127.0.0.1 with its job server, started the way users start one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.launch import ray_token_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`ray start --head` in its own process group (so teardown kills only this cluster, not other Ray users)."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**ray_token_env(), "RAY_USAGE_STATS_ENABLED": "0"}
    dash_port = free_port()
    temp_dir = tmp_path_factory.mktemp("ray")
    proc = subprocess.Popen(
        [
            f"{bin_dir}/ray", "start", "--head", "--block",
            "--node-ip-address=127.0.0.1", f"--port={free_port()}",
            "--dashboard-host=127.0.0.1", f"--dashboard-port={dash_port}", "--include-dashboard=true",
            "--num-cpus=2", f"--temp-dir={temp_dir}", "--disable-usage-stats",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    address = f"http://127.0.0.1:{dash_port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{address}/api/version", timeout=2):
                break
        except urllib.error.HTTPError:
            break  # it answers (401 until a token is sent): the job server is up
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                pytest.fail("ray start --head did not bring up the job server")
            time.sleep(1)
    yield address
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
