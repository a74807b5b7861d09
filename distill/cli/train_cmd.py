"""`distill train`: distill the student on this run's curated dialogues (SFT) or preference pairs (DPO)."""

from __future__ import annotations

from distill.cli.common import ConfigOpt, NewRunOpt, OverridesArg, VerboseOpt, load, run_console


def train(
    config: ConfigOpt = None, overrides: OverridesArg = None, new_run: NewRunOpt = False, verbose: VerboseOpt = False
) -> None:
    """Train with DeepSpeed ZeRO on one node (train.num_workers ranks) or on Ray Train (train.use_ray_train=true).

    Resumes from the newest ZeRO checkpoint when rerun; writes <run>/checkpoints/<student>/hf (a plain HF folder)
    and stats/train.json with the loss curve.
    """
    from distill.cli.summaries import train_line
    from train import run_train

    cfg = load(config, overrides)
    with run_console(cfg, verbose) as console:
        stats = console.run("train", run_train, cfg, new_run=new_run)
        console.line(train_line(stats))
