"""Data path without a model run: label masks token by token, packing, rejects that add up, the DeepSpeed config
builder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distill.config import load_config
from distill.records import DIALOGUE
from distill.run_dir import RunDir
from distill.shards import ShardWriter, iter_rows
from tests.support.training import dialogue_messages, dialogue_row
from train.data import (
    IGNORE_INDEX,
    PACKED,
    Example,
    Packer,
    PreparedRows,
    prepare_sft,
    shards_fingerprint,
    tokenize_dialogue,
)
from train.deepspeed_config import build_deepspeed_config

KNOWN = [
    {"role": "system", "content": "You are a kind listener."},
    {"role": "user", "content": "I lost my job today."},
    {"role": "assistant", "content": "I'm so sorry. That is a shock."},
    {"role": "user", "content": "I don't know what to tell my family."},
    {"role": "assistant", "content": "It makes sense to worry about that. What scares you most?"},
]


def test_labels_are_exactly_the_assistant_turns(tokenizer: Any) -> None:
    ex = tokenize_dialogue(tokenizer, KNOWN, max_seq_len=4096)
    # Rebuild the expected mask independently: tokenize the template's pieces one by one.
    pieces: list[tuple[str, bool]] = []
    for m in KNOWN:
        pieces.append((f"<|im_start|>{m['role']}\n", False))
        pieces.append((m["content"] + "<|im_end|>", m["role"] == "assistant"))
        pieces.append(("\n", False))
    expected_ids: list[int] = []
    expected_trained: list[bool] = []
    for text, trained in pieces:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        expected_ids += ids
        expected_trained += [trained] * len(ids)
    assert ex.input_ids == expected_ids
    for i, (tok, lab, trained) in enumerate(zip(ex.input_ids, ex.labels, expected_trained)):
        assert (lab != IGNORE_INDEX) == trained, (
            f"token {i} {tokenizer.decode([tok])!r}: label {lab}, trained={trained}"
        )
        if trained:
            assert lab == tok
    spans = tokenizer.decode([t for t, lab in zip(ex.input_ids, ex.labels) if lab != IGNORE_INDEX])
    assert (
        spans
        == "I'm so sorry. That is a shock.<|im_end|>It makes sense to worry about that. What scares you most?<|im_end|>"
    )
    assert not ex.truncated


def test_truncation_is_flagged(tokenizer: Any) -> None:
    ex = tokenize_dialogue(tokenizer, KNOWN, max_seq_len=20)
    assert ex.truncated and len(ex.input_ids) == 20


def test_packer_restarts_positions_and_never_splits_a_dialogue() -> None:
    packer = Packer(max_seq_len=10, pad_id=0, open_rows=2)
    examples = [Example(list(range(1, n + 1)), [IGNORE_INDEX] + list(range(2, n + 1))) for n in (6, 3, 5, 4, 2, 7)]
    rows = [r for ex in examples for r in packer.add(ex)] + list(packer.flush())
    assert sum(r["num_docs"] for r in rows) == len(examples)
    for r in rows:
        assert len(r["input_ids"]) == len(r["labels"]) == len(r["position_ids"]) == 10
        starts = [i for i, p in enumerate(r["position_ids"]) if p == 0]
        for s in starts:  # the first token of every document (and of the padding) is never a target
            assert r["labels"][s] == IGNORE_INDEX
    # Every dialogue appears whole (ids 1..n), padding (id 0) fills the rest.
    docs = sorted(n for r in rows for start, n in _docs(r) if r["input_ids"][start] != 0)
    assert docs == sorted([6, 3, 5, 4, 2, 7])
    assert len(rows) < len(examples)  # something was packed together


def _docs(row: dict[str, Any]) -> list[tuple[int, int]]:
    starts = [i for i, p in enumerate(row["position_ids"]) if p == 0] + [len(row["position_ids"])]
    return [(a, b - a) for a, b in zip(starts, starts[1:])]


def test_prepare_sft_accounts_for_every_record(tmp_path: Path, tokenizer: Any) -> None:
    cfg = load_config(None, [f"run.output_dir={tmp_path}"])
    run = RunDir(cfg)
    good = [dialogue_row(i) for i in range(5)]
    bad = [
        dialogue_row(100, [{"role": "user", "content": "hello?"}]),  # nobody answers
        dialogue_row(101, [{"role": "narrator", "content": "x"}, {"role": "assistant", "content": "y"}]),
        dialogue_row(102, [{"role": "user", "content": "word " * 300}, {"role": "assistant", "content": "late"}]),
    ]
    with ShardWriter(run.curated, DIALOGUE, rows_per_shard=3) as w:
        w.write(good[:2] + bad + good[2:])
    manifest = prepare_sft(
        run.curated, tmp_path / "data", run.rejects("train"), tokenizer, max_seq_len=256, pack=True, fingerprint="x"
    )
    c = manifest["counters"]
    assert c["records_in"] == 8 and c["records_used"] == 5
    assert c["rejected/no_assistant_turn"] == 1 and c["rejected/unknown_role"] == 1
    assert c["rejected/no_trainable_tokens_within_max_seq_len"] == 1
    rejects = list(iter_rows(run.rejects("train")))
    reasons = sorted(r["reason"] for r in rejects)
    assert reasons == ["no_assistant_turn", "no_trainable_tokens_within_max_seq_len", "unknown_role"]
    where = {r["reason"]: (Path(r["source_file"]).name, r["source_row"]) for r in rejects}
    assert where["no_assistant_turn"] == ("part-00000.parquet", 3)  # 1-based row inside the shard that holds it
    assert where["unknown_role"] == ("part-00001.parquet", 1)
    rows = PreparedRows(tmp_path / "data")
    assert len(rows) == c["packed_rows"] >= 1
    assert sum(rows[i]["num_docs"] for i in range(len(rows))) == 5
    one = tokenize_dialogue(tokenizer, dialogue_messages(0), 256)
    assert rows[0]["input_ids"][: len(one.input_ids)] == one.input_ids
    assert PACKED.names == ["input_ids", "labels", "position_ids", "num_docs"]
    assert len(shards_fingerprint(run.curated)) == 16


@pytest.mark.parametrize("stage", [0, 1, 2, 3])
def test_deepspeed_config_from_the_typed_section(stage: int) -> None:
    cfg = load_config(
        None,
        [
            f"train.zero_stage={stage}",
            "train.micro_batch_size=2",
            "train.gradient_accumulation_steps=4",
            "train.warmup_steps=5",
            "train.precision=fp32",
        ],
    )
    ds = build_deepspeed_config(cfg.train, world_size=3, total_steps=100, on_cpu=True)
    assert ds["zero_optimization"]["stage"] == stage
    assert ds["train_batch_size"] == 2 * 4 * 3
    assert ds["bf16"]["enabled"] is False
    assert ds["optimizer"]["params"]["torch_adam"] is True  # CPU: no JIT-compiled Adam
    assert ds["scheduler"]["type"] == "WarmupCosineLR" and ds["scheduler"]["params"]["warmup_num_steps"] == 5
    assert ds["scheduler"]["params"]["total_num_steps"] == 100
    assert ("stage3_gather_16bit_weights_on_model_save" in ds["zero_optimization"]) == (stage == 3)


def test_offload_settings_and_their_validation() -> None:
    cfg = load_config(None, ["train.zero_stage=3", "train.offload_optimizer=true", "train.offload_params=true"])
    ds = build_deepspeed_config(cfg.train, world_size=8, total_steps=10, on_cpu=False)
    assert ds["zero_optimization"]["offload_optimizer"]["device"] == "cpu"
    assert ds["zero_optimization"]["offload_param"]["device"] == "cpu"
    assert ds["optimizer"]["params"]["torch_adam"] is False and ds["zero_force_ds_cpu_optimizer"] is True
    from distill.errors import ConfigError

    with pytest.raises(ConfigError, match="offload_params needs zero_stage 3"):
        load_config(None, ["train.zero_stage=2", "train.offload_params=true"])
