"""The train stage for the pipeline: `run_train(cfg)` claims the run folder, runs the ranks, writes stats/train.json."""

from __future__ import annotations

import json
import logging

from distill.config import RunConfig
from distill.run_dir import RunDir
from distill.stages import TRAIN, run_stage
from distill.stats import StageStats
from train.progress import watch_progress

log = logging.getLogger(__name__)


def run_train(cfg: RunConfig, *, new_run: bool = False) -> StageStats:
    """Train (or resume) the configured student on this run's curated data; returns the stage stats."""
    return run_stage(TRAIN, cfg, _train, new_run=new_run)


def _train(cfg: RunConfig, run: RunDir) -> StageStats:
    from train.prepare import check_input
    from train.runtime import STATE, Checkpoints, TrainPaths

    check_input(cfg)
    paths = TrainPaths.of(cfg)
    paths.root.mkdir(parents=True, exist_ok=True)
    with watch_progress(paths.root):
        if cfg.train.use_ray_train:
            from train.ray_train import launch_ray

            launch_ray(cfg)
        else:
            from train.launch import launch_local

            launch_local(cfg, paths.root / "train_config.yaml")

    stats = StageStats(TRAIN.name)
    manifest = json.loads((paths.data / "manifest.json").read_text())
    stats.merge(manifest)
    latest = Checkpoints(paths.zero, cfg.train.keep_checkpoints).latest()
    state = json.loads((latest / STATE).read_text()) if latest else {}
    curve = state.get("loss_curve", [])
    stats.add("optimizer_steps", state.get("next_step", 0))
    stats.add("tokens_seen", sum(e.get("tokens", 0) for e in curve))
    stats.info = {
        "student": paths.root.name,
        "recipe": cfg.train.recipe,
        "checkpoint": str(latest) if latest else None,
        "export": str(paths.export) if (paths.export / "export.json").exists() else None,
        "data_fingerprint": manifest["fingerprint"],
        "loss_curve": curve,
    }
    log.info(
        "train: %d steps, final loss %s -> %s",
        state.get("next_step", 0),
        curve[-1]["loss"] if curve else None,
        paths.root,
    )
    return stats
