"""SFT end to end on a tiny random Llama: 2 CPU ranks under ZeRO-2 and ZeRO-3, kill + resume, export, generation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from distill.config import RunConfig, dump_config
from distill.run_dir import RunDir
from tests.support.training import make_cfg, write_curated
from train import run_train

pytestmark = pytest.mark.slow


def _weights(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def _curve(cfg: RunConfig) -> list[dict[str, float]]:
    return json.loads((RunDir(cfg).root / "stats" / "train.json").read_text())["info"]["loss_curve"]


def _check_trained(cfg: RunConfig, tiny_llama: Path) -> Path:
    curve = _curve(cfg)
    losses = [e["loss"] for e in curve]
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.5, losses
    export = RunDir(cfg).checkpoints / "tiny" / "hf"
    before, after = _weights(tiny_llama), _weights(export)
    assert set(before) == set(after)
    unchanged = [k for k in before if before[k].equal(after[k])]
    assert not unchanged, f"parameters that did not change: {unchanged}"
    return export


@pytest.fixture(scope="module")
def zero2(tmp_path_factory: pytest.TempPathFactory, tiny_llama: Path) -> RunConfig:
    cfg = make_cfg(
        tmp_path_factory.mktemp("zero2"),
        tiny_llama,
        "train.max_steps=12",
        "train.save_every_steps=3",
        "train.keep_checkpoints=2",
    )
    write_curated(cfg)
    stats = run_train(cfg)
    assert stats.counters["optimizer_steps"] == 12
    return cfg


def test_zero2_two_ranks_loss_falls_and_every_parameter_moves(zero2: RunConfig, tiny_llama: Path) -> None:
    export = _check_trained(zero2, tiny_llama)
    stats = json.loads((RunDir(zero2).root / "stats" / "train.json").read_text())
    c = stats["counters"]
    assert c["records_in"] == c["records_used"] == 24
    assert stats["info"]["export"] == str(export.absolute())
    card = (export / "README.md").read_text()
    assert (
        f"dataset manifest hash: `{json.loads((export / 'export.json').read_text())['dataset_manifest_hash']}`" in card
    )
    assert json.loads((export / "ds_config.json").read_text())["zero_optimization"]["stage"] == 2
    # Only the newest checkpoints are kept, each with the DeepSpeed config it was made with.
    steps = sorted(p.name for p in (RunDir(zero2).checkpoints / "tiny" / "zero").glob("step-*"))
    assert steps == ["step-00000009", "step-00000012"]
    assert all((RunDir(zero2).checkpoints / "tiny" / "zero" / s / "ds_config.json").exists() for s in steps)


def test_zero3_two_ranks_packed(tmp_path: Path, tiny_llama: Path) -> None:
    cfg = make_cfg(tmp_path, tiny_llama, "train.zero_stage=3", "train.max_seq_len=256", "train.max_steps=6")
    write_curated(cfg)
    stats = run_train(cfg)
    assert stats.counters["packed_rows"] < stats.counters["records_used"]  # dialogues were packed together
    _check_trained(cfg, tiny_llama)


def test_killed_run_resumes_on_the_same_loss_curve(tmp_path: Path, zero2: RunConfig) -> None:
    cfg = zero2.model_copy(deep=True)
    cfg.run.output_dir = str(tmp_path)
    write_curated(cfg)
    config_file = tmp_path / "train.yaml"
    config_file.write_text(dump_config(cfg))
    command = [sys.executable, "-m", "distill.cli", "train", "--config", str(config_file)]
    zero = RunDir(cfg).checkpoints / "tiny" / "zero"
    proc = subprocess.Popen(command, start_new_session=True)  # its own process group: the kill takes the ranks too
    try:
        deadline = time.time() + 240
        while not (zero / "step-00000003" / "_done.json").exists():
            assert proc.poll() is None, "training exited before its first checkpoint"
            assert time.time() < deadline, "no checkpoint within 240 s"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    export = RunDir(cfg).checkpoints / "tiny" / "hf"
    assert not (export / "export.json").exists(), "the run finished before the kill; nothing was interrupted"
    assert not RunDir(cfg).stage_done("train")

    subprocess.run(command, check=True, timeout=400)
    resumed, reference = _curve(cfg), _curve(zero2)
    assert [e["step"] for e in resumed] == list(range(1, 13))
    for a, b in zip(resumed, reference):
        assert a["loss"] == pytest.approx(b["loss"], rel=2e-3, abs=2e-3), (a, b)
        assert a["lr"] == pytest.approx(b["lr"])


def test_export_generates_with_transformers(zero2: RunConfig) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    export = RunDir(zero2).checkpoints / "tiny" / "hf"
    tok = AutoTokenizer.from_pretrained(export)
    model = AutoModelForCausalLM.from_pretrained(export)
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "I feel alone."}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    out = model.generate(**prompt, max_new_tokens=8, do_sample=False)
    assert out.shape[1] > prompt["input_ids"].shape[1]


VLLM_SCRIPT = """
import sys
from vllm import LLM, SamplingParams
llm = LLM(model=sys.argv[1], enforce_eager=True, max_model_len=512, dtype="float32", seed=0)
out = llm.chat([{"role": "user", "content": "I feel alone."}], SamplingParams(max_tokens=8, temperature=0.0))
tokens = out[0].outputs[0].token_ids
print("GENERATED", len(tokens), repr(out[0].outputs[0].text))
"""


def test_export_generates_with_vllm(zero2: RunConfig, tmp_path: Path) -> None:
    export = RunDir(zero2).checkpoints / "tiny" / "hf"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"}
    # A separate process: the vLLM engine brings its own threads and workers, which a test process should not keep.
    result = subprocess.run(
        [sys.executable, "-c", VLLM_SCRIPT, str(export)],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        cwd=tmp_path,
    )
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("GENERATED")), None)
    assert result.returncode == 0 and line is not None, result.stderr[-3000:]
    assert int(line.split()[1]) >= 1


def test_lora_trains_adapters_and_exports_merged_weights(tmp_path: Path, tiny_llama: Path) -> None:
    cfg = make_cfg(
        tmp_path,
        tiny_llama,
        "train.lora_rank=8",
        "train.learning_rate=0.01",
        "train.max_steps=3",
        "train.lora_target_modules=[q_proj,v_proj]",
    )
    write_curated(cfg)
    run_train(cfg)
    before, after = _weights(tiny_llama), _weights(RunDir(cfg).checkpoints / "tiny" / "hf")
    assert set(before) == set(after), "the export is a plain model: no adapter keys"
    changed = {k for k in before if not before[k].equal(after[k])}
    assert changed == {f"model.layers.{i}.self_attn.{m}.weight" for i in range(2) for m in ("q_proj", "v_proj")}
