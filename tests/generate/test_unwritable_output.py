"""An output folder that cannot be written: a path part that is a file, and a "full disk" (RLIMIT_FSIZE) mid-run.

Both must end in one line naming the path and exit 2, leave no temp file or unmarked shard behind, and a rerun
once the cause is gone must finish with every planned unit exactly once.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from distill.config import load_config
from distill.generate.resume import done_batches
from distill.records import SEED
from distill.run_dir import RunDir
from distill.shards import DONE_DIR, ShardWriter, iter_rows
from distill.stages import SEEDS
from tests.support.seeds import seed_rows

REPO = Path(__file__).resolve().parents[2]
FSIZE_LIMIT = 48_000  # bytes per file: every normal shard fits, the shard holding the big seed does not


def limit_file_size() -> None:
    """preexec_fn: in the child only, a write past FSIZE_LIMIT fails with EFBIG (as on a full disk) instead of killing
    it."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))


def run_python(args: list[str], *, full_disk: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_file_size if full_disk else None,
        env={**os.environ, "RAY_ADDRESS": "", "PYTHONUNBUFFERED": "1"},
    )


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize(
    "command", [["ray_jobs.generate"], ["distill.cli", "generate"], ["ray_jobs.pipeline"], ["distill.cli", "run"]]
)
def test_output_dir_under_a_regular_file_is_one_line_naming_the_path(tmp_path, command):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should go")
    proc = run_python(["-m", *command, "teacher.backend=dryrun", f"run.output_dir={blocker / 'runs'}"])
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert error_lines(proc) == [proc.stderr.strip()], "exactly one line, and it is the error"
    assert str(blocker / "runs") in proc.stderr and "is a file, not a folder" in proc.stderr


def test_writes_past_the_file_size_limit_clean_up_their_temp_files(tmp_path):
    """atomic_write_bytes and ShardWriter under a real EFBIG: OutputError naming the target, no temp file left."""
    script = f"""
import os
from distill.atomic import atomic_write_bytes
from distill.errors import OutputError
from distill.shards import ShardWriter
from distill.records import SEED
try:
    atomic_write_bytes({str(tmp_path / "big.bin")!r}, os.urandom(2 * {FSIZE_LIMIT}))
except OutputError as exc:
    print("atomic:", exc)
rows = [{{"id": str(i), "source": "s", "language": "en", "emotion": None, "situation": None, "metadata": "{{}}",
          "messages": [{{"role": "user", "content": os.urandom(4000).hex()}}]}} for i in range(20)]
try:
    with ShardWriter({str(tmp_path / "shards")!r}, SEED, rows_per_shard=100) as w:
        w.write(rows)
except OutputError as exc:
    print("shard:", exc)
"""
    proc = run_python(["-c", script], full_disk=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert (
        lines[0]
        == f"atomic: cannot write {tmp_path / 'big.bin'}: file too large (file-system or `ulimit -f` size limit); fix "
        "it, then rerun the same command to resume"
    )
    assert lines[1].startswith(f"shard: cannot write {tmp_path / 'shards' / 'part-00000.parquet'}: file too large")
    assert [p.name for p in tmp_path.rglob("*")] == ["shards"], "a temp file or a partial shard was left behind"


def write_seeds_with_a_big_one(cfg, n: int, big_at: int) -> None:
    """n ordinary seeds; seed `big_at` carries an incompressible 80 kB turn, so only its unit's shard outgrows the
    limit."""
    rows = seed_rows(n)
    rows[big_at] = {
        **rows[big_at],
        "messages": [{"role": "user", "content": os.urandom(40_000).hex()}, *rows[big_at]["messages"][1:]],
    }
    run = RunDir(cfg)
    run.claim_stage(SEEDS)
    with ShardWriter(run.seeds, SEED, rows_per_shard=n) as out:
        out.write(rows)
    run.finish_stage("seeds")


def test_disk_full_mid_run_fails_cleanly_then_a_rerun_finishes_exactly_once(tmp_path):
    data = {
        "run": {"name": "full", "output_dir": str(tmp_path / "runs")},
        "teacher": {
            "backend": "dryrun",
            "placement": "local",
        },  # no Ray: its object store would itself hit the file-size limit
        "generate": {"modes": ["continue"], "continue_turns": 1, "units_per_shard": 1},
    }
    config = tmp_path / "gen.yaml"
    config.write_text(yaml.safe_dump(data))
    cfg = load_config(config)
    write_seeds_with_a_big_one(cfg, 10, big_at=5)
    run = RunDir(cfg)

    failed = run_python(["-m", "ray_jobs.generate", "--config", str(config)], full_disk=True)
    assert failed.returncode == 2, failed.stderr[-3000:]
    assert "Traceback" not in failed.stderr
    (line,) = error_lines(
        failed
    )  # e.g. error: cannot write .../generated/units-000005-00000.parquet: file too large (...)
    assert line.startswith(f"error: cannot write {run.generated / 'units-000005-00000.parquet'}: file too large"), line
    done = done_batches(run.generated)
    assert "units-000005" not in done and len(done) >= 5, "the failure must land mid-run, after the earlier batches"
    assert not run.stage_done("generate")
    assert not [p for p in run.root.rglob("*") if p.name.endswith(".tmp")], "a temp file was left behind"
    for shard in run.generated.glob("*.parquet"):
        assert (run.generated / DONE_DIR / f"{shard.name}.json").exists(), f"{shard} has no marker"

    rerun = run_python(["-m", "ray_jobs.generate", "--config", str(config)])
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    plan = [r["id"] for r in iter_rows(run.plan)]
    ids = [r["id"] for r in iter_rows(run.generated)] + [r["id"] for r in iter_rows(run.rejects("generate"))]
    assert len(plan) == 10 and len(ids) == len(set(ids)) and set(ids) == set(plan)
    stats = yaml.safe_load((run.root / "stats" / "generate.json").read_text())
    assert stats["counters"]["units"] == 10 and stats["info"]["this_invocation"]["units"] == 10 - len(done)


def test_only_storage_conditions_become_user_errors():
    import errno

    from distill.errors import storage_error

    assert str(storage_error(OSError(errno.ENOSPC, "No space left on device"))).startswith(
        "cannot write (unknown file): no space left"
    )
    assert "cannot access /data/x: permission denied" in str(
        storage_error(PermissionError(errno.EACCES, "denied", "/data/x"))
    )
    assert storage_error(PermissionError(errno.EACCES, "denied")) is None, (
        "no path: may be anything, keep the traceback"
    )
    assert storage_error(FileNotFoundError(errno.ENOENT, "gone", "/data/x")) is None, "a missing file of ours is a bug"
    assert storage_error(ValueError("not an OSError")) is None
