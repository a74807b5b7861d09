"""Export the trained student as a plain HF folder: safetensors, tokenizer, generation config, model card.

The folder loads with `AutoModelForCausalLM.from_pretrained` and with vLLM, with no DeepSpeed or peft around it:
ZeRO-3 shards are gathered first and LoRA adapters are merged into the weights.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path
from typing import Any

import yaml

from distill.atomic import atomic_write_json, atomic_write_text
from distill.config import RunConfig
from distill.embedded import resolve_model
from distill.run_dir import RunDir

log = logging.getLogger(__name__)

EXPORT_MARKER = "export.json"


def consolidated_state_dict(engine: Any, zero_stage: int, is_main: bool) -> dict[str, Any] | None:
    """Full weights on rank 0 (None elsewhere); every rank must call this (ZeRO-3 gathers collectively)."""
    import deepspeed

    module = engine.module
    if zero_stage == 3:
        with deepspeed.zero.GatheredParameters(list(module.parameters()), modifier_rank=None):
            # state_dict() runs ZeRO-3 hooks that are collective: every rank takes it, only rank 0 keeps a copy.
            state = module.state_dict()
            return {k: v.detach().cpu().clone() for k, v in state.items()} if is_main else None
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()} if is_main else None


def build_plain_model(cfg: RunConfig, state: dict[str, Any]) -> Any:
    """A fresh transformers model holding `state` (LoRA merged), in the training precision."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.integrations.deepspeed import unset_hf_deepspeed_config

    from train.runtime import with_lora

    # else from_config would partition this CPU copy with ZeRO-3 again (a collective on rank 0 alone)
    unset_hf_deepspeed_config()
    t = cfg.train
    config = AutoConfig.from_pretrained(resolve_model(t.student), trust_remote_code=t.trust_remote_code)
    model = AutoModelForCausalLM.from_config(config, trust_remote_code=t.trust_remote_code)
    if t.lora_rank:
        model = with_lora(model, t)
        model.load_state_dict(state, strict=True)
        model = model.merge_and_unload()
    else:
        model.load_state_dict(state, strict=True)
    model.config.use_cache = True
    return model.to(torch.bfloat16 if t.precision == "bf16" else torch.float32)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def model_card(cfg: RunConfig, session: Any, dataset_hash: str, dataset_card: Path | None) -> str:
    t = cfg.train
    curve = session.curve
    first, last = (curve[0]["loss"], curve[-1]["loss"]) if curve else (float("nan"), float("nan"))
    tokens = sum(e.get("tokens_trained", 0) for e in curve)
    base = (
        resolve_model(t.student)
        if t.student != "embedded"
        else "HuggingFaceTB/SmolLM2-135M-Instruct (embedded GGUF, dequantized)"
    )
    card_line = (
        f"`{dataset_card.name}` (sha256 {_sha256(dataset_card)})" if dataset_card else "none written by this run"
    )
    front = {
        "library_name": "transformers",
        "base_model": base,
        "pipeline_tag": "text-generation",
        "tags": ["empathy", "emotional-support", "distillation", "deepspeed", t.recipe],
    }
    return (
        "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n\n"
        f"# {session.paths.root.name}\n\n"
        f"An empathetic-dialogue student distilled with **{t.recipe.upper()}** on DeepSpeed ZeRO-{t.zero_stage} "
        f"from `{t.student}`, by the empathy-distill pipeline (run `{cfg.run.name}`).\n\n"
        "## Data\n\n"
        f"- dataset manifest hash: `{dataset_hash}` (blake2b digests of every input shard, in order)\n"
        f"- dataset card: {card_line}\n"
        f"- run config hash: `{cfg.stage_hash()}`\n\n"
        "## Training\n\n"
        f"- steps: {session.step} optimizer steps on {session.dist.world} rank(s), "
        f"micro batch {t.micro_batch_size} x accumulation {t.gradient_accumulation_steps}, max_seq_len "
        f"{t.max_seq_len}\n"
        f"- loss: {first:.4f} at step 1 -> {last:.4f} at step {session.step}; trained tokens: {int(tokens)}\n"
        f"- precision {t.precision}, lr {t.learning_rate} ({t.lr_scheduler}), LoRA rank "
        f"{t.lora_rank or 'none (full fine-tune)'}\n\n"
        "Full settings: `training_config.yaml` and `ds_config.json` in this folder; the loss curve is in "
        "`training_metrics.json`.\n\n"
        "## Use\n\n"
        "```python\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n"
        f"tok = AutoTokenizer.from_pretrained('{session.paths.export}')\n"
        f"model = AutoModelForCausalLM.from_pretrained('{session.paths.export}')\n```\n\n"
        "Not a substitute for professional care: the student imitates supportive replies and can be wrong; route "
        "crisis "
        "conversations to people and emergency services.\n"
    )


def export_hf(cfg: RunConfig, session: Any, tokenizer: Any) -> Path:
    """Collective: every rank calls it; rank 0 writes `<checkpoints>/<student>/hf/` atomically (marker last)."""
    from transformers import GenerationConfig

    from train.data import shards_fingerprint
    from train.prepare import input_dir
    from train.runtime import barrier

    target = session.paths.export
    state = consolidated_state_dict(session.engine, cfg.train.zero_stage, session.dist.is_main)
    if session.dist.is_main:
        model = build_plain_model(cfg, state)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            gen = GenerationConfig.from_pretrained(resolve_model(cfg.train.student))
        except OSError:
            gen = GenerationConfig.from_model_config(model.config)
        gen.eos_token_id = tokenizer.eos_token_id if gen.eos_token_id is None else gen.eos_token_id
        gen.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else gen.eos_token_id
        gen.save_pretrained(tmp)
        dataset_hash = shards_fingerprint(input_dir(cfg))
        card = RunDir(cfg).path("dataset_card.md")
        atomic_write_text(tmp / "README.md", model_card(cfg, session, dataset_hash, card if card.exists() else None))
        atomic_write_text(tmp / "training_config.yaml", yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
        atomic_write_json(tmp / "ds_config.json", session.ds_config)
        atomic_write_json(tmp / "training_metrics.json", {"loss_curve": session.curve, "steps": session.step})
        atomic_write_json(tmp / EXPORT_MARKER, {"step": session.step, "dataset_manifest_hash": dataset_hash})
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
        log.info("exported %s", target)
    barrier()
    return target
