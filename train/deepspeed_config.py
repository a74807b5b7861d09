"""The DeepSpeed config, built by one function from the typed `TrainSection` (never hand-written JSON).

The dict is saved as `ds_config.json` beside every checkpoint, so a checkpoint says how it was made.
"""

from __future__ import annotations

from typing import Any

from distill.config import TrainSection


def build_deepspeed_config(train: TrainSection, *, world_size: int, total_steps: int, on_cpu: bool) -> dict[str, Any]:
    """ZeRO stage, offload, precision, batch geometry, clipping, AdamW and the LR schedule for `total_steps` optimizer
    steps."""
    torch_adam = on_cpu if train.torch_adam is None else train.torch_adam
    zero: dict[str, Any] = {
        "stage": train.zero_stage,
        "overlap_comm": not on_cpu,  # overlapping needs a separate comm stream, which gloo on CPU does not have
        "contiguous_gradients": True,
        "reduce_bucket_size": 5e7,
        "allgather_bucket_size": 5e7,
    }
    if train.zero_stage == 3:
        # Export gathers the full 16-bit weights on rank 0 instead of leaving only partitioned shards.
        zero["stage3_gather_16bit_weights_on_model_save"] = True
        zero["stage3_prefetch_bucket_size"] = 5e7
        zero["stage3_param_persistence_threshold"] = 1e5
    if train.offload_optimizer:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": not on_cpu}
    if train.offload_params:
        zero["offload_param"] = {"device": "cpu", "pin_memory": not on_cpu}

    return {
        "train_micro_batch_size_per_gpu": train.micro_batch_size,
        "gradient_accumulation_steps": train.gradient_accumulation_steps,
        "train_batch_size": train.micro_batch_size * train.gradient_accumulation_steps * world_size,
        "gradient_clipping": train.gradient_clipping,
        "bf16": {"enabled": train.precision == "bf16"},
        "fp16": {"enabled": False},
        "zero_optimization": zero,
        "optimizer": {
            "type": "AdamW",
            "params": {
                "lr": train.learning_rate,
                "betas": list(train.adam_betas),
                "eps": 1e-8,
                "weight_decay": train.weight_decay,
                "torch_adam": torch_adam,
            },
        },
        "scheduler": _scheduler(train, total_steps),
        # torch AdamW with offload: DeepSpeed would otherwise insist on its compiled CPU Adam.
        "zero_force_ds_cpu_optimizer": not torch_adam,
        "zero_allow_untested_optimizer": True,
        "steps_per_print": 10**9,  # we log ourselves, once per optimizer step, on rank 0
        "wall_clock_breakdown": False,
    }


def _scheduler(train: TrainSection, total_steps: int) -> dict[str, Any]:
    """The LR schedule: a linear warmup to `learning_rate`, then cosine, linear decay or constant."""
    # DeepSpeed's schedulers need >= 1 warmup step; "no warmup" is a warmup that starts at the peak.
    start_ratio = 1.0 if train.warmup_steps == 0 else 0.0
    warmup = {"warmup_num_steps": max(1, min(train.warmup_steps, total_steps)), "warmup_type": "linear"}
    # WarmupDecayLR and WarmupLR name the warmup's ends in absolute LRs, WarmupCosineLR as a ratio of the peak.
    lr_range = {"warmup_min_lr": start_ratio * train.learning_rate, "warmup_max_lr": train.learning_rate}
    if train.lr_scheduler == "cosine":
        ratios = {"warmup_min_ratio": start_ratio, "cos_min_ratio": train.min_lr_ratio}
        return {"type": "WarmupCosineLR", "params": {"total_num_steps": total_steps, **warmup, **ratios}}
    if train.lr_scheduler == "linear":
        return {"type": "WarmupDecayLR", "params": {"total_num_steps": total_steps, **warmup, **lr_range}}
    return {"type": "WarmupLR", "params": {**warmup, **lr_range}}
