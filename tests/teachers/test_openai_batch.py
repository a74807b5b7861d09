"""The OpenAI Batch API teacher: batch lines and limits as pure functions, then the real `openai` client against a
loopback
Files + Batch server on 127.0.0.1 that answers every line from the session's embedded vLLM engine, with planted faults
(an expired batch, a failed one, a cancelled one, lines failing with 500 and 400, a driver lost between upload and
create)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distill.config import TeacherSection
from distill.errors import ConfigError
from distill.teachers import build_teacher
from distill.teachers.base import SamplingParams, TeacherRequest
from distill.teachers.openai_batch_journal import BatchJournal, journal_counters
from distill.teachers.openai_batch_lines import line_digest, parse_result_line, request_line, split_lines
from tests.support.batch_api_server import BatchAPIServer

KEY = "sk-batch-planted-7f3e91c2aa"


def _request(i: int, max_tokens: int = 6) -> TeacherRequest:
    chat = [
        {"role": "system", "content": "You are a kind listener."},
        {"role": "user", "content": f"I feel low today ({i})."},
    ]
    return TeacherRequest(f"u{i:02d}/0", chat, SamplingParams(0.8, 0.95, max_tokens, 1000 + i))


def _section(server: BatchAPIServer, folder: Path, **extra: object) -> TeacherSection:
    return TeacherSection(
        backend="openai_batch",
        model="smollm2",
        base_url=server.base_url,
        api_key_env="DISTILL_TEST_BATCH_KEY",
        batch_dir=str(folder),
        batch_poll_initial_s=0.02,
        batch_poll_max_s=0.2,
        timeout_s=30,
        **extra,
    )


# -- pure: lines, limits, results ------------------------------------------------------------
def test_a_request_becomes_one_batch_line_with_its_id_sampling_and_seed():
    line = json.loads(request_line(TeacherSection(backend="openai_batch", model="gpt-4o-mini"), _request(3)))
    assert line["custom_id"] == "u03/0" and line["method"] == "POST" and line["url"] == "/v1/chat/completions"
    body = line["body"]
    assert (
        body["model"] == "gpt-4o-mini"
        and body["seed"] == 1003
        and body["max_tokens"] == 6
        and body["messages"][1]["role"] == "user"
    )
    m = TeacherSection(backend="openai_batch", model="m")
    assert line_digest(request_line(m, _request(3))) != line_digest(request_line(m, _request(3, max_tokens=7)))


def test_files_are_split_under_both_the_request_and_the_byte_limit():
    lines = [(f"r{i}", b"x" * 99 + b"\n") for i in range(10)]
    assert [len(c) for c in split_lines(lines, max_requests=4, max_bytes=10_000)] == [4, 4, 2]
    assert [len(c) for c in split_lines(lines, max_requests=100, max_bytes=350)] == [3, 3, 3, 1]
    assert all(sum(len(b) for _, b in c) <= 350 for c in split_lines(lines, 100, 350))
    with pytest.raises(ValueError, match="r0.*batch_max_bytes=50"):
        list(split_lines(lines, 100, 50))


def test_result_lines_are_answers_final_errors_or_retries():
    ok = {
        "custom_id": "a",
        "response": {
            "status_code": 200,
            "body": {
                "choices": [{"message": {"content": "Hi."}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2},
            },
        },
        "error": None,
    }
    assert parse_result_line(json.dumps(ok)).result.text == "Hi."
    assert parse_result_line(json.dumps(ok)).result.completion_tokens == 2
    expired = {"custom_id": "b", "response": None, "error": {"code": "batch_expired", "message": "window"}}
    assert parse_result_line(json.dumps(expired)).retry and parse_result_line(json.dumps(expired)).result is None
    for status, retried in ((429, True), (500, True), (400, False)):
        line = {
            "custom_id": "c",
            "response": {"status_code": status, "body": {"error": {"message": "no"}}},
            "error": None,
        }
        outcome = parse_result_line(json.dumps(line))
        assert bool(outcome.retry) is retried and (outcome.result is None) is retried
    assert (
        "batch_cancelled"
        in parse_result_line(json.dumps({"custom_id": "d", "error": {"code": "batch_cancelled"}})).result.error
    )
    with pytest.raises(ValueError):
        parse_result_line("[1, 2]")


def test_without_a_run_folder_or_a_key_it_refuses_with_one_line(monkeypatch):
    monkeypatch.delenv("DISTILL_TEST_BATCH_KEY", raising=False)
    with pytest.raises(ConfigError, match="batch_dir"):
        build_teacher(TeacherSection(backend="openai_batch", api_key_env="DISTILL_TEST_BATCH_KEY"))
    with pytest.raises(ConfigError, match="DISTILL_TEST_BATCH_KEY"):
        build_teacher(TeacherSection(backend="openai_batch", api_key_env="DISTILL_TEST_BATCH_KEY", batch_dir="/tmp/x"))


# -- the real client, the loopback service, the real engine --------------------------------------
def _lines_add_up(folder: Path) -> dict[str, int]:
    c = journal_counters(folder)
    # Every line sent came back answered, failed for good, or counted for another try; nothing is in flight at the end.
    assert (
        c["batch_api/lines_submitted"]
        == c["batch_api/lines_answered"] + c["batch_api/lines_failed"] + c["batch_api/lines_retry"]
    ), c
    return dict(c)


@pytest.mark.slow
def test_faults_end_as_answers_resubmissions_or_errors_and_a_replay_pays_nothing(
    embedded_vllm_teacher, monkeypatch, tmp_path
):
    monkeypatch.setenv("DISTILL_TEST_BATCH_KEY", KEY)
    requests = [_request(i) for i in range(7)]
    # Batch 0 (u00-u02, of the 3 the split makes) expires; u01 then fails with a 500 the second time it is sent; u02 is
    # a 400.
    faults = {"u01/0": lambda n: "500" if n == 2 else None, "u02/0": lambda n: "400"}
    with BatchAPIServer(
        embedded_vllm_teacher, expire={0}, line_fault=lambda cid, n: faults.get(cid, lambda _n: None)(n)
    ) as server:
        teacher = build_teacher(_section(server, tmp_path / "tb", batch_max_requests=3))
        results = teacher.generate(requests)
        created = len(server.order)
        again = build_teacher(_section(server, tmp_path / "tb", batch_max_requests=3)).generate(requests)
        assert len(server.order) == created, "a replayed call must submit nothing"
    assert [r.id for r in results] == [r.id for r in requests]
    assert [r.text for r in again] == [r.text for r in results]
    assert "http_400" in results[2].error and results[2].text is None
    assert all(r.ok and r.completion_tokens > 0 for i, r in enumerate(results) if i != 2)
    # Batch 0 held u00-u02 and expired after answering u00: u01 and u02 went again; u01's 500 sent it a third time.
    assert server.submissions == {"u00/0": 1, "u01/0": 3, "u02/0": 2, "u03/0": 1, "u04/0": 1, "u05/0": 1, "u06/0": 1}
    c = _lines_add_up(tmp_path / "tb")
    assert (
        c["batch_api/batches_expired"] == 1
        and c["batch_api/lines_resubmitted"] == 3
        and c["batch_api/lines_failed"] == 1
    )
    assert c["batch_api/lines_answered"] == 6 and c["batch_api/lines_submitted"] == sum(server.submissions.values())
    assert server.auth_headers == {f"Bearer {KEY}"}
    assert all(KEY.encode() not in p.read_bytes() for p in (tmp_path / "tb").rglob("*") if p.is_file())


@pytest.mark.slow
def test_failed_and_cancelled_batches_and_the_resubmission_budget(embedded_vllm_teacher, monkeypatch, tmp_path):
    monkeypatch.setenv("DISTILL_TEST_BATCH_KEY", KEY)
    requests = [_request(i, max_tokens=4) for i in range(4)]
    # Batch 0 (u00, u01) fails validation and is resubmitted as batch 2; batch 1 (u02, u03) is cancelled: final at once.
    with BatchAPIServer(embedded_vllm_teacher, fail={0}, cancel={1}) as server:
        results = build_teacher(_section(server, tmp_path / "a", batch_max_requests=2)).generate(requests)
    assert [r.ok for r in results] == [True, True, False, False]
    assert all("batch_cancelled" in r.error for r in results[2:])
    assert server.submissions == {"u00/0": 2, "u01/0": 2, "u02/0": 1, "u03/0": 1}
    c = _lines_add_up(tmp_path / "a")
    assert (
        c["batch_api/batches_failed"] == 1
        and c["batch_api/batches_cancelled"] == 1
        and c["batch_api/batches_completed"] == 1
    )

    # With no resubmission allowed, the lines of an expired batch that got no answer become errors naming why.
    with BatchAPIServer(embedded_vllm_teacher, expire={0}) as server:
        results = build_teacher(_section(server, tmp_path / "b", batch_max_resubmits=0)).generate(requests[:2])
    assert results[0].ok and "batch_gave_up" in results[1].error and "batch_expired" in results[1].error
    assert server.submissions == {"u00/0": 1, "u01/0": 1}
    assert journal_counters(tmp_path / "b")["batch_api/requests_given_up"] == 1


@pytest.mark.slow
def test_a_driver_lost_between_upload_and_create_finds_its_batch_by_token_instead_of_paying_again(
    embedded_vllm_teacher, monkeypatch, tmp_path
):
    """The window a SIGKILL cannot be aimed at: the record says `submitting` and the batch exists. Made by hand with the
    real client, then a teacher resumes the call: it adopts the batch carrying the record's token and creates none."""
    import openai

    from distill.teachers.openai_batch import TOKEN_KEY

    monkeypatch.setenv("DISTILL_TEST_BATCH_KEY", KEY)
    reqs = [_request(0), _request(1)]
    with BatchAPIServer(embedded_vllm_teacher) as server:
        lines = {r.id: request_line(_section(server, tmp_path / "tb"), r) for r in reqs}
        with openai.OpenAI(base_url=server.base_url, api_key=KEY) as client:
            uploaded = client.files.create(file=("x.jsonl", b"".join(lines.values())), purpose="batch")
            batch = client.batches.create(
                input_file_id=uploaded.id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata={TOKEN_KEY: "tok1"},
            )
        call = BatchJournal(tmp_path / "tb").open_call({rid: line_digest(line) for rid, line in lines.items()})
        call.submissions.append(
            {
                "token": "tok1",
                "state": "submitting",
                "input_file_id": uploaded.id,
                "batch_id": None,
                "request_ids": list(lines),
            }
        )
        call.attempts.update(list(lines))
        call.save()
        results = build_teacher(_section(server, tmp_path / "tb")).generate(reqs)
    assert len(results) == len(reqs) and all(r.ok for r in results)
    assert server.order == [batch.id] and server.submissions == {"u00/0": 1, "u01/0": 1}
    c = _lines_add_up(tmp_path / "tb")
    assert c["batch_api/lines_submitted"] == 2 and c["batch_api/lines_resubmitted"] == 0


def test_a_request_no_batch_file_can_carry_is_its_own_error_and_nothing_is_sent(monkeypatch, tmp_path):
    monkeypatch.setenv("DISTILL_TEST_BATCH_KEY", KEY)
    section = TeacherSection(
        backend="openai_batch",
        base_url="http://127.0.0.1:9/v1",
        api_key_env="DISTILL_TEST_BATCH_KEY",
        batch_dir=str(tmp_path),
        batch_max_bytes=1024,
        max_retries=0,
    )  # port 9 (discard) answers nothing: any call to the service would fail the test
    big = TeacherRequest("big/0", [{"role": "user", "content": "x" * 2000}], SamplingParams(0.0, 1.0, 8, 1))
    [result] = build_teacher(section).generate([big])
    assert (
        result.text is None and result.error.startswith("request_too_large") and "batch_max_bytes=1024" in result.error
    )
    assert journal_counters(tmp_path) == {"batch_api/requests_too_large": 1}
