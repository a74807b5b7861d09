"""A planted API key through the whole `distill run` (OpenAI-backend teacher and judge on a loopback server, tiny
student).

The key must reach the server (so it was really used) and appear nowhere else: not in any file of the run folder
(shards decoded, since compression hides bytes; zip/gzip members opened) and not in the command's stdout/stderr.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.support.launch import run_distill
from tests.support.loopback import LoopbackServer, chat_completion, send_json, usage

pytestmark = pytest.mark.slow
SUPPORTER = [
    "That sounds heavy to carry. What part of it weighs on you most tonight?",
    "I can hear how tired you are. It makes sense to feel worn down after all that.",
    "Thank you for telling me. How have you been coping with it so far?",
    "It is understandable to feel hurt when someone you trust pulls away. Do you want to say more?",
    "You are not alone in this. What would feel like a small relief right now?",
    "That must have been frightening. Who has been around to support you?",
]
SEEKER = [
    "Honestly I have not slept well since it happened.",
    "I keep replaying the conversation in my head.",
    "My friends say I should move on but I cannot.",
    "I guess I feel embarrassed that it still bothers me.",
]
VERDICT = '{"rating": "Good", "content": 2, "empathy": 2, "helpfulness": 1, "safety": 1}'


class ChatServer(LoopbackServer):
    """A real chat-completions endpoint on 127.0.0.1: seeker, supporter or judge replies, chosen by the request's
    prompt."""

    def __init__(self) -> None:
        super().__init__()
        self.auth_headers: list[str] = []

    def handle(self, h: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
        self.auth_headers.append(h.headers.get("Authorization", ""))
        send_json(h, 200, self.completion(json.loads(body), hashlib.sha256(body).digest()[0]))

    def completion(self, request: dict, pick: int) -> dict:
        system = next((m["content"] for m in request["messages"] if m["role"] == "system"), "")
        if "JSON only" in system:
            text = VERDICT
        elif "role-playing a person who is struggling" in system:
            text = SEEKER[pick % len(SEEKER)]
        else:
            text = SUPPORTER[pick % len(SUPPORTER)]
        return chat_completion(
            request.get("model", "m"), text, usage=usage(40, len(text.split())), completion_id="chatcmpl-leak"
        )


def tiny_student(folder: Path) -> Path:
    """A 2-layer random Llama with the embedded chat tokenizer: trains and answers in seconds on a CPU."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from distill.embedded import embedded_model_dir

    tokenizer = AutoTokenizer.from_pretrained(embedded_model_dir())
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=1,
        num_key_value_heads=1, head_dim=64, max_position_embeddings=512, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def texts_of(path: Path) -> list[tuple[str, bytes]]:
    """(where, bytes) for the file itself and for what compression hides inside it: decoded shard rows, zip/gzip
    members."""
    raw = path.read_bytes()
    found = [(str(path), raw)]
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()  # every column, nested strings included
        found.append((f"{path} (decoded rows)", json.dumps(rows, default=str, ensure_ascii=False).encode()))
    elif zipfile.is_zipfile(path):  # torch.save checkpoints are zip archives
        with zipfile.ZipFile(path) as archive:
            found += [(f"{path}!{name}", archive.read(name)) for name in archive.namelist()]
    elif raw[:2] == b"\x1f\x8b":
        found.append((f"{path} (gunzipped)", gzip.decompress(raw)))
    return found


def test_a_planted_api_key_is_used_but_never_written_or_printed(tmp_path: Path) -> None:
    key = "sk-planted-" + secrets.token_hex(16)
    student = tiny_student(tmp_path / "student")
    with ChatServer() as server:
        proc = run_distill(
            f"run.output_dir={tmp_path / 'runs'}",
            "run.name=leak",
            "seeds.sources=[{path: bundled, limit: 8}]",
            "seeds.holdout_fraction=0.3",
            "teacher.backend=openai",
            "teacher.model=leak-model",
            f"teacher.base_url={server.base_url}",
            "teacher.max_retries=1",
            "generate.modes=[continue]",
            "generate.continue_turns=2",
            "generate.sampling.max_tokens=32",
            f"train.student={student}",
            "train.student_name=tiny",
            "train.precision=fp32",
            "train.num_workers=1",
            "train.max_steps=2",
            "train.save_every_steps=1",
            "train.max_seq_len=256",
            "eval.max_prompts=2",
            "eval.sampling.max_tokens=16",
            "eval.judge_max_tokens=64",
            env={"OPENAI_API_KEY": key, "OMP_NUM_THREADS": "1"},
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    for stage in ("seeds", "generate", "curate", "train", "eval"):
        assert any(line.startswith(f"{stage}: ") for line in lines), proc.stdout  # each stage's summary line

    assert server.auth_headers and set(server.auth_headers) == {f"Bearer {key}"}, "the key never reached the server"
    assert key not in proc.stdout and key not in proc.stderr, "the key was printed"

    run = tmp_path / "runs" / "leak"
    files = [p for p in run.rglob("*") if p.is_file()]
    for path in files:
        for where, data in texts_of(path):
            assert key.encode() not in data, f"the API key was written to {where}"
    # The walk covered every kind of output, so a pipeline that stopped early cannot pass it.
    names = {str(p.relative_to(run)) for p in files}
    expected_files = (
        "config.yaml",
        "dataset_card.md",
        "report.html",
        "eval.json",
        "stats/generate.json",
        "stats/train.json",
        "logs/generate.log",
    )
    for expected in expected_files:
        assert expected in names, f"{expected} missing from the run folder"
    suffixes = {p.suffix for p in files}
    assert {".parquet", ".safetensors", ".pt"} <= suffixes, suffixes
    assert any(p.name == "README.md" and "checkpoints" in p.parts for p in files), "no model card"
