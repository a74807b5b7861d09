"""The generate stage on `teacher.backend: openai_batch` against the loopback Files + Batch server (127.0.0.1), every
line
answered by the session's embedded vLLM engine: one batch per round of each unit batch, a driver SIGKILLed while its
batches are in flight, and a resumed run that submits nothing it already paid for and loses no unit.

The killed driver is a subprocess (a SIGKILL must hit a whole process), but it is only an HTTP client: the engine stays
in
this test process behind the server, so the subprocess costs an interpreter start, not an engine start, and its lines
are answered by the real engine too.
"""

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
from distill.generate import run_generate
from distill.run_dir import RunDir
from distill.shards import iter_rows
from tests.support.batch_api_server import BatchAPIServer
from tests.support.seeds import write_seeds

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
KEY = "sk-batch-stage-planted-0c4d2e"
DRIVER = (
    "import sys; from distill.config import load_config; from distill.generate import run_generate; "
    "run_generate(load_config(sys.argv[1]))"
)


def batch_config(tmp_path: Path, server: BatchAPIServer, **generate: object) -> Path:
    data = {
        "run": {"name": "batch", "output_dir": str(tmp_path / "runs")},
        "teacher": {
            "backend": "openai_batch",
            "model": "smollm2",
            "base_url": server.base_url,
            "api_key_env": "DISTILL_TEST_BATCH_KEY",
            "batch_poll_initial_s": 0.05,
            "batch_poll_max_s": 0.3,
            "timeout_s": 30,
            "price_per_million_prompt_tokens": 0.075,
            "price_per_million_completion_tokens": 0.30,
        },
        "generate": {
            "modes": ["selfchat"],
            "selfchat_turns": 2,
            "units_per_shard": 2,
            "max_in_flight_per_actor": 2,
            "truncated_turns": "trim",
            "sampling": {"temperature": 0.8, "top_p": 0.95, "max_tokens": 16},
            **generate,
        },
    }
    path = tmp_path / "gen_batch.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_driver_killed_with_batches_in_flight_resumes_them_and_pays_for_nothing_twice(
    embedded_vllm_teacher, monkeypatch, tmp_path
):
    monkeypatch.setenv("DISTILL_TEST_BATCH_KEY", KEY)
    with BatchAPIServer(embedded_vllm_teacher, hold=True) as server:
        config = batch_config(tmp_path, server)
        cfg = load_config(config)
        write_seeds(cfg, 4)  # 4 selfchat units in 2 unit batches, both in flight at once; 2 rounds each
        proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(config)],
            cwd=REPO,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            deadline = time.monotonic() + 60
            while len(server.order) < 2:  # round 0 of both unit batches submitted, the server holding both
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "the driver submitted no batches in 60 s"
                time.sleep(0.05)
            time.sleep(0.3)  # let it record and start polling
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        in_flight = list(server.order)
        assert len(in_flight) == 2 and not RunDir(cfg).stage_done("generate")
        server.release()
        stats = run_generate(cfg)  # the resumed driver, in this process
        auth = set(server.auth_headers)
    run = RunDir(cfg)
    plan = sorted(r["id"] for r in iter_rows(run.plan))
    generated = [r["id"] for r in iter_rows(run.generated)]
    rejects = [r["id"] for r in iter_rows(run.rejects("generate"))]
    assert len(plan) == 4 and sorted(generated + rejects) == plan, "every planned unit exactly once"
    assert server.order[:2] == in_flight, "the resumed run polled the batches the killed one paid for"
    assert set(server.submissions.values()) == {1}, f"a request was submitted twice: {server.submissions}"
    round0 = {f"{uid}/0" for uid in plan}
    assert round0 <= set(server.submissions), "every unit's first turn went out once"
    c = stats.counters
    # One batch per round of each unit batch: 2 unit batches x (1 or 2 rounds, as their episodes survive round 0).
    assert 2 <= c["batch_api/batches_submitted"] == len(server.order) <= 4 and c["batch_api/batches_completed"] == len(
        server.order
    )
    assert c["batch_api/lines_submitted"] == sum(server.submissions.values()) == c["requests"]
    assert (
        c["batch_api/lines_submitted"]
        == c["batch_api/lines_answered"] + c["batch_api/lines_failed"] + c["batch_api/lines_retry"]
    )
    assert c["units"] == c["dialogues"] + c["rejected"] == 4
    assert stats.info["estimated_cost_usd"] == pytest.approx(
        (c["tokens/prompt"] * 0.075 + c["tokens/completion"] * 0.30) / 1e6, abs=1e-6
    )
    assert auth == {f"Bearer {KEY}"}
    for path in run.root.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), f"API key written to {path}"
    records = [json.loads(p.read_text()) for p in (run.root / "teacher_batches" / "calls").glob("*.json")]
    assert sorted(s["batch_id"] for r in records for s in r["submissions"]) == sorted(server.order)
