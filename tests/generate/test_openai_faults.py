"""OpenAI backend against a real fault-injecting HTTP server on 127.0.0.1: 429 + Retry-After, 500s, timeouts, garbage.

Every unit must end generated or rejected with a reason; retries only where allowed; the key never leaks.
"""

from __future__ import annotations

import logging
from collections import Counter

import pytest

from distill.generate import run_generate
from distill.run_dir import RunDir
from distill.shards import iter_rows
from distill.teachers.openai_backend import TeacherUnavailableError
from tests.support.fault_server import FaultServer
from tests.support.seeds import write_seeds

KEY = "sk-planted-test-key-9f2c7a1be04d"


def openai_overrides(server: FaultServer, *extra: str) -> list[str]:
    return [
        "teacher.backend=openai",
        "teacher.model=fault-model",
        f"teacher.base_url={server.base_url}",
        "teacher.api_key_env=DISTILL_TEST_API_KEY",
        "teacher.timeout_s=2",  # generous: a loaded CI machine must not turn slow answers into timeouts
        "teacher.max_retries=2",
        "teacher.max_retry_wait_s=3",
        "teacher.max_concurrency=8",
        "teacher.price_per_million_prompt_tokens=1.0",
        "teacher.price_per_million_completion_tokens=2.0",
        "generate.modes=[continue,selfchat]",
        "generate.variants_per_seed=2",
        "generate.selfchat_turns=2",
        "generate.continue_turns=1",
        "generate.units_per_shard=8",
        *extra,
    ]


def test_every_unit_ends_generated_or_rejected_and_retries_follow_the_rules(make_cfg, monkeypatch, caplog, tmp_path):
    monkeypatch.setenv("DISTILL_TEST_API_KEY", KEY)
    caplog.set_level(logging.DEBUG)
    with FaultServer(hang_s=4.0) as server:
        cfg = make_cfg(*openai_overrides(server))
        write_seeds(cfg, 9)
        stats = run_generate(cfg)
    run = RunDir(cfg)
    plan = [r["id"] for r in iter_rows(run.plan)]
    generated = [r["id"] for r in iter_rows(run.generated)]
    rejects = list(iter_rows(run.rejects("generate")))
    ids = generated + [r["id"] for r in rejects]
    assert len(plan) == 36 and sorted(ids) == sorted(plan), "every unit ends exactly once"
    reasons = Counter(r["reason"] for r in rejects)
    assert set(reasons) == {"teacher_error", "truncated", "unparseable_output"}
    assert all(r["detail"] for r in rejects)
    details = " ".join(r["detail"] for r in rejects if r["reason"] == "teacher_error")
    assert "InternalServerError" in details and "BadRequestError" in details and "bad_response" in details

    c = stats.counters
    assert c["dialogues"] == len(generated) > 0 and c["rejected"] == len(rejects)
    assert stats.info["estimated_cost_usd"] == pytest.approx(
        (c["tokens/prompt"] * 1.0 + c["tokens/completion"] * 2.0) / 1e6
    )

    by_kind: dict[str, list[list[float]]] = {}
    for digest, times in server.attempts.items():
        by_kind.setdefault(server.kind_of[digest], []).append(times)
    for kind in ("ok", "429_then_ok", "500_then_ok", "timeout_then_ok", "garbage", "500_always", "400", "broken_json"):
        assert kind in by_kind, f"no request of kind {kind}; adjust the seed count"
    assert all(len(t) == 2 and t[1] - t[0] >= 0.95 for t in by_kind["429_then_ok"]), "Retry-After: 1 not honoured"
    assert [len(t) for t in by_kind["500_then_ok"] + by_kind["timeout_then_ok"]] == [2] * len(
        by_kind["500_then_ok"] + by_kind["timeout_then_ok"]
    )
    assert [len(t) for t in by_kind["500_always"]] == [3] * len(by_kind["500_always"]), "max_retries=2 means 3 attempts"
    assert all(len(t) == 1 for t in by_kind["400"] + by_kind["garbage"] + by_kind["broken_json"] + by_kind["ok"]), (
        "retried a non-retryable"
    )

    assert server.auth_headers == {f"Bearer {KEY}"}
    assert KEY not in caplog.text
    for path in run.root.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), f"API key written to {path}"


def test_a_dead_endpoint_exhausts_the_retry_budget_and_fails_fast_without_marking_anything(make_cfg, monkeypatch):
    monkeypatch.setenv("DISTILL_TEST_API_KEY", KEY)
    with FaultServer(kinds=("500_always",)) as server:
        cfg = make_cfg(*openai_overrides(server, "teacher.retry_budget=3", "teacher.max_retry_wait_s=0.2"))
        write_seeds(cfg, 2)
        with pytest.raises(TeacherUnavailableError, match="retry budget of 3 exhausted") as err:
            run_generate(cfg)
    assert KEY not in str(err.value)
    run = RunDir(cfg)
    assert not list(run.generated.glob("_done/*.done")) and not run.stage_done("generate")


def test_missing_key_for_the_real_openai_is_a_config_error(make_cfg, monkeypatch):
    from distill.errors import ConfigError
    from distill.teachers import build_teacher

    monkeypatch.delenv("DISTILL_TEST_API_KEY", raising=False)
    cfg = make_cfg("teacher.backend=openai", "teacher.api_key_env=DISTILL_TEST_API_KEY")
    with pytest.raises(ConfigError, match="DISTILL_TEST_API_KEY"):
        build_teacher(cfg.teacher)


# Issue #8's mix: 30% of requests fail (429 + Retry-After, 500, a timeout, a malformed body), the rest answer.
THIRTY_PERCENT = ("ok",) * 14 + (
    "429_then_ok",
    "429_then_ok",
    "500_then_ok",
    "500_then_ok",
    "timeout_then_ok",
    "broken_json",
)


def test_a_server_failing_30_percent_of_requests_loses_nothing(make_cfg, monkeypatch):
    monkeypatch.setenv("DISTILL_TEST_API_KEY", KEY)
    with FaultServer(kinds=THIRTY_PERCENT, hang_s=4.0) as server:
        cfg = make_cfg(*openai_overrides(server))
        write_seeds(cfg, 8)
        stats = run_generate(cfg)
    run = RunDir(cfg)
    plan = sorted(r["id"] for r in iter_rows(run.plan))
    generated = [r["id"] for r in iter_rows(run.generated)]
    rejects = list(iter_rows(run.rejects("generate")))
    assert sorted(generated + [r["id"] for r in rejects]) == plan and len(set(generated)) == len(generated)
    kinds = Counter(server.kind_of.values())
    failing = sum(n for kind, n in kinds.items() if kind != "ok")
    assert 0.15 < failing / sum(kinds.values()) < 0.45, kinds  # the mix really hit the server
    # Transient faults are retried into dialogues; only the malformed body (not retryable) costs its unit.
    assert {r["reason"] for r in rejects} <= {"teacher_error"}
    assert all("JSONDecodeError" in r["detail"] for r in rejects), [r["detail"] for r in rejects]
    assert len(rejects) <= kinds["broken_json"] and stats.counters["dialogues"] == len(generated) > len(plan) // 2
