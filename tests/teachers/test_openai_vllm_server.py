"""OpenAI backend against vLLM's own OpenAI-compatible server of the embedded model, on 127.0.0.1 (real HTTP, real
engine)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from distill.config import TeacherSection
from distill.teachers import build_teacher
from distill.teachers.base import SamplingParams, TeacherRequest

pytestmark = pytest.mark.slow
KEY = "sk-vllm-server-test-51c0de"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory):
    from distill.embedded import embedded_model_dir

    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1", "VLLM_API_KEY": KEY}
    cmd = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(embedded_model_dir()),
        "--served-model-name",
        "smollm2",
    ]
    cmd += [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--enforce-eager",
        "--max-model-len",
        "2048",
        "--dtype",
        "float32",
    ]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                pytest.fail(f"vLLM server exited: {log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"vLLM server not up in 240 s: {log.read_text()[-3000:]}")
                time.sleep(1)
        yield f"{base}/v1", log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_results_keep_order_ids_and_reproduce_per_request_seeds(vllm_server, monkeypatch):
    base_url, _log = vllm_server
    monkeypatch.setenv("DISTILL_TEST_VLLM_KEY", KEY)
    teacher = build_teacher(
        TeacherSection(
            backend="openai", model="smollm2", base_url=base_url, api_key_env="DISTILL_TEST_VLLM_KEY", timeout_s=60
        )
    )
    chat = [
        {"role": "system", "content": "You are a kind listener."},
        {"role": "user", "content": "I failed my exam today."},
    ]
    sampling = lambda seed: SamplingParams(temperature=1.0, top_p=0.95, max_tokens=32, seed=seed)  # noqa: E731
    requests = [
        TeacherRequest("a", chat, sampling(1)),
        TeacherRequest("b", chat, sampling(2)),
        TeacherRequest("c", chat, sampling(1)),
    ]
    results = teacher.generate(requests)
    assert [r.id for r in results] == ["a", "b", "c"]
    assert all(r.ok and r.text and r.completion_tokens > 0 and r.prompt_tokens > 0 for r in results)
    assert all(r.finish_reason in ("stop", "length") for r in results)
    assert results[0].text == results[2].text, "the same seed must reproduce the same sample"
    assert results[0].text != results[1].text, "different seeds should sample differently"


def test_a_wrong_key_is_a_per_request_error_not_a_crash(vllm_server, monkeypatch):
    base_url, _log = vllm_server
    monkeypatch.setenv("DISTILL_TEST_VLLM_KEY", "sk-wrong")
    teacher = build_teacher(
        TeacherSection(backend="openai", model="smollm2", base_url=base_url, api_key_env="DISTILL_TEST_VLLM_KEY")
    )
    [result] = teacher.generate(
        [TeacherRequest("x", [{"role": "user", "content": "hi"}], SamplingParams(0.0, 1.0, 8, 0))]
    )
    assert result.text is None and "AuthenticationError" in result.error and "sk-wrong" not in result.error


def test_a_response_schema_goes_out_as_strict_json_schema_and_every_reply_parses(vllm_server, monkeypatch):
    """The EPITOME judge's requests through the OpenAI backend: vLLM's server enforces `response_format:
    json_schema`."""
    from distill.epitome.judge import load_epitome_rubric, pair_request, parse_pair_reply

    base_url, _log = vllm_server
    monkeypatch.setenv("DISTILL_TEST_VLLM_KEY", KEY)
    teacher = build_teacher(
        TeacherSection(
            backend="openai", model="smollm2", base_url=base_url, api_key_env="DISTILL_TEST_VLLM_KEY", timeout_s=120
        )
    )
    rubric = load_epitome_rubric("v1")
    pairs = [
        ("I lost my job today.", "I'm so sorry, that must be a shock. How are you holding up?"),
        ("My exam went well!", "Nice."),
    ]
    results = teacher.generate([pair_request(p, rubric, 200) for p in pairs])
    assert all(r.ok for r in results), [r.error for r in results]
    for r in results:
        levels, _rationale = parse_pair_reply(r.text)
        assert set(levels) <= {0, 1, 2}
