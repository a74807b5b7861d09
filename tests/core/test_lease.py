"""The run folder's lease: one driver at a time, a refused driver names the holder, a killed holder's lease is taken
over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from distill.config import load_config
from distill.lease import HOLDER_FILE, RunBusyError, read_holder, run_lease
from distill.run_dir import RunDir
from distill.shards import iter_rows

BIN = Path(sys.executable).parent


def write_config(tmp_path: Path, latency_s: float) -> Path:
    """Seeds + generate on the dryrun teacher, slowed down so a driver is still running when the next one starts."""
    config = tmp_path / "lease.yaml"
    config.write_text(yaml.safe_dump({
        "run": {"name": "leased", "output_dir": str(tmp_path / "runs")},
        "seeds": {"sources": [{"path": "bundled", "limit": 8}], "holdout_fraction": 0.0},
        "teacher": {"backend": "dryrun", "placement": "local", "dryrun_latency_s": latency_s},
        "generate": {"modes": ["continue"], "variants_per_seed": 2, "units_per_shard": 1},
    }))  # fmt: skip
    return config


def driver(config: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([str(BIN / "distill"), "generate", "--config", str(config)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def wait_for(condition, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def test_the_lease_is_reentrant_in_a_process_and_released_after(tmp_path: Path) -> None:
    root = tmp_path / "run"
    with run_lease(root):
        holder = read_holder(root)
        assert holder["pid"] == os.getpid() and holder["host"] and holder["since"]
        with run_lease(root):  # `distill run` holds it, and each of its stages takes it again
            pass
        assert (root / HOLDER_FILE).exists()
    assert not (root / HOLDER_FILE).exists()
    with run_lease(root):  # free again
        pass


def test_a_second_holder_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    root = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from distill.lease import run_lease\n"
         "with run_lease(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)", str(root)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunBusyError, match=rf"in use by another driver \(pid {holder.pid} on "):
            with run_lease(root):
                pass
    finally:
        holder.kill()
        holder.wait()
    with run_lease(root):  # the killed holder's OS lock went with it: taken over at once
        assert read_holder(root)["pid"] == os.getpid()


def test_two_drivers_on_one_folder_one_runs_the_other_exits_2_naming_the_holder(tmp_path: Path) -> None:
    config = write_config(tmp_path, latency_s=0.1)
    root = RunDir(load_config(config)).root
    first = driver(config)
    wait_for(lambda: (root / HOLDER_FILE).exists() or first.poll() is not None)
    second = driver(config)
    out2, err2 = second.communicate(timeout=300)
    out1, err1 = first.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert second.returncode == 2, (out2, err2)
    lines = err2.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "in use by another driver" in lines[0]
    assert f"pid {first.pid} on " in lines[0] and "distill generate" in lines[0], lines[0]
    dialogues = list(iter_rows(RunDir(load_config(config)).generated))
    assert len(dialogues) == 16 and len({d["id"] for d in dialogues}) == 16
    assert not (root / HOLDER_FILE).exists()  # released on the way out


def test_a_killed_holders_lease_is_taken_over_and_the_run_completes_exactly_once(tmp_path: Path) -> None:
    config = write_config(tmp_path, latency_s=0.15)
    cfg = load_config(config)
    run = RunDir(cfg)
    first = driver(config)
    done_dir = run.generated / "_done"
    wait_for(lambda: done_dir.is_dir() and len(list(done_dir.iterdir())) >= 3)  # part-way through generation
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert read_holder(run.root)["pid"] == first.pid  # a killed driver leaves its name behind, and nothing releases it
    second = driver(config)
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert "generate: 16 units -> 16 dialogues" in out
    dialogues = list(iter_rows(run.generated))
    assert len(dialogues) == 16 and len({d["id"] for d in dialogues}) == 16
    assert json.loads(run.path("stages", "generate.json").read_text())["done"]
    assert not (run.root / HOLDER_FILE).exists()
