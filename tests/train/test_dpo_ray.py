"""DPO raises the chosen-vs-rejected margin; Ray Train with 2 CPU workers produces a checkpoint that exports and
reloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from distill.run_dir import RunDir
from tests.support.training import make_cfg, pair_row, write_curated, write_prefs
from train import run_train
from train.data import IGNORE_INDEX, tokenize_response

pytestmark = pytest.mark.slow


def _margins(model_dir: Path, tokenizer: Any, pairs: list[dict[str, Any]]) -> list[float]:
    """log p(chosen | prompt) - log p(rejected | prompt), summed over response tokens, with plain transformers."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()

    def logp(prompt: list[dict[str, str]], response: str) -> float:
        ex = tokenize_response(tokenizer, prompt, response, 4096)
        ids = torch.tensor([ex.input_ids])
        with torch.no_grad():
            logprobs = model(input_ids=ids).logits[0, :-1].log_softmax(-1)
        return sum(
            float(logprobs[t - 1, ex.input_ids[t]]) for t in range(1, len(ex.labels)) if ex.labels[t] != IGNORE_INDEX
        )

    return [logp(p["prompt"], p["chosen"]) - logp(p["prompt"], p["rejected"]) for p in pairs]


def test_dpo_increases_the_chosen_rejected_margin(tmp_path: Path, tiny_llama: Path, tokenizer: Any) -> None:
    cfg = make_cfg(
        tmp_path, tiny_llama, "train.recipe=dpo", "train.learning_rate=0.001", "train.max_steps=4", "train.epochs=1"
    )
    pairs = write_prefs(cfg, 8)
    stats = run_train(cfg)
    assert stats.counters["records_used"] == 8
    curve = stats.info["loss_curve"]
    assert curve[-1]["loss"] < curve[0]["loss"]
    before = _margins(tiny_llama, tokenizer, pairs)
    after = _margins(RunDir(cfg).checkpoints / "tiny" / "hf", tokenizer, pairs)
    assert sum(after) / len(after) > sum(before) / len(before) + 1.0, (before, after)
    assert list((RunDir(cfg).checkpoints / "tiny").glob("reference_logps-*.safetensors"))


def test_dpo_rejects_pairs_whose_response_cannot_fit(tmp_path: Path, tokenizer: Any) -> None:
    from distill.records import PREFERENCE_PAIR
    from distill.shards import ShardWriter, iter_rows
    from train.data import prepare_dpo

    long = {**pair_row(1), "id": "long", "chosen": "so sorry " * 200}
    with ShardWriter(tmp_path / "prefs", PREFERENCE_PAIR) as w:
        w.write([pair_row(0), long])
    manifest = prepare_dpo(
        tmp_path / "prefs", tmp_path / "data", tmp_path / "rejects", tokenizer, max_seq_len=64, fingerprint="x"
    )
    assert manifest["counters"]["records_used"] == 1
    assert [r["reason"] for r in iter_rows(tmp_path / "rejects")] == ["response_longer_than_max_seq_len"]


def test_ray_train_two_cpu_workers_export_reloads(tmp_path: Path, tiny_llama: Path) -> None:
    import ray
    from transformers import AutoModelForCausalLM

    cfg = make_cfg(tmp_path, tiny_llama, "train.use_ray_train=true", "train.max_steps=3", "train.save_every_steps=3")
    write_curated(cfg)
    ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1")
    try:
        stats = run_train(cfg)
    finally:
        ray.shutdown()
    root = RunDir(cfg).checkpoints / "tiny"
    assert (root / "zero" / "step-00000003" / "_done.json").exists()
    assert json.loads((root / "zero" / "step-00000003" / "trainer_state.json").read_text())["world_size"] == 2
    model = AutoModelForCausalLM.from_pretrained(root / "hf")
    assert model.config.num_hidden_layers == 2
    assert stats.counters["optimizer_steps"] == 3
