"""`distill train`: distill the student on this run's curated dialogues (SFT) or preference pairs (DPO)."""

from __future__ import annotations

import typer

from distill.cli.common import ConfigOpt, NewRunOpt, OverridesArg, load


def train(config: ConfigOpt = None, overrides: OverridesArg = None, new_run: NewRunOpt = False) -> None:
    """Train with DeepSpeed ZeRO on one node (train.num_workers ranks) or on Ray Train (train.use_ray_train=true).

    Resumes from the newest ZeRO checkpoint when rerun; writes <run>/checkpoints/<student>/hf (a plain HF folder)
    and stats/train.json with the loss curve.
    """
    from train import run_train

    cfg = load(config, overrides)
    stats = run_train(cfg, new_run=new_run)
    curve = stats.info.get("loss_curve") or []
    loss = f", loss {curve[0]['loss']:.4f} -> {curve[-1]['loss']:.4f}" if curve else ""
    rejected = int(sum(stats.by_prefix("rejected").values()))
    typer.echo(f"train: {int(stats.counters['optimizer_steps'])} steps on {int(stats.counters['records_used'])} records "
               f"({rejected} rejected){loss} -> "
               f"{stats.info.get('export') or stats.info.get('checkpoint')}")
