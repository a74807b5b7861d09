"""The step loop shared by the recipes: data order, gradient accumulation, logging, checkpoints, resume.

A recipe hands in its prepared rows and a `micro_loss(rows) -> (loss, metrics)`; the session owns the rest.
The data position is the optimizer step: step s reads a fixed slice of a per-epoch permutation, so a resumed
run reads exactly what an uninterrupted one would have.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from distill.config import RunConfig
from distill.errors import InputError, RunStateError
from train.data import PreparedRows
from train.progress import write_progress
from train.runtime import STATE, Checkpoints, Dist, TrainPaths, all_reduce_mean, all_reduce_sum

log = logging.getLogger(__name__)

MicroLoss = Callable[[list[dict[str, Any]]], tuple[Any, dict[str, float]]]


def steps_per_epoch(num_rows: int, world: int, micro: int, accum: int) -> int:
    return num_rows // (world * micro * accum)


def total_steps(cfg: RunConfig, num_rows: int, world: int) -> int:
    t = cfg.train
    per_epoch = steps_per_epoch(num_rows, world, t.micro_batch_size, t.gradient_accumulation_steps)
    if per_epoch == 0:
        raise InputError(
            f"the prepared data has {num_rows} rows, fewer than one optimizer step needs "
            f"({world} ranks x micro_batch_size {t.micro_batch_size} x gradient_accumulation_steps "
            f"{t.gradient_accumulation_steps}); "
            "lower those or add data"
        )
    steps = per_epoch * t.epochs
    return min(steps, t.max_steps) if t.max_steps else steps


class TrainSession:
    def __init__(
        self, cfg: RunConfig, dist: Dist, paths: TrainPaths, rows: PreparedRows, data_fingerprint: str
    ) -> None:
        self.cfg = cfg
        self.dist = dist
        self.paths = paths
        self.rows = rows
        self.data_fingerprint = data_fingerprint
        self.total_steps = total_steps(cfg, len(rows), dist.world)
        self.per_epoch = steps_per_epoch(
            len(rows), dist.world, cfg.train.micro_batch_size, cfg.train.gradient_accumulation_steps
        )
        self.checkpoints = Checkpoints(paths.zero, cfg.train.keep_checkpoints)
        self.engine: Any = None
        self.ds_config: dict[str, Any] = {}
        self.step = 0
        self.curve: list[dict[str, float]] = []
        self.extra_state: dict[str, Any] = {}
        self._perm: tuple[int, Any] | None = None

    # -- data order -------------------------------------------------------------------------------
    def _permutation(self, epoch: int) -> Any:
        import numpy as np

        if self._perm is None or self._perm[0] != epoch:
            n = len(self.rows)
            order = (
                np.random.default_rng([self.cfg.run.seed, epoch]).permutation(n)
                if self.cfg.train.shuffle
                else np.arange(n)
            )
            self._perm = (epoch, order)
        return self._perm[1]

    def micro_rows(self, step: int, accum_index: int) -> list[dict[str, Any]]:
        t = self.cfg.train
        epoch, within = divmod(step, self.per_epoch)
        order = self._permutation(epoch)
        g = within * t.gradient_accumulation_steps + accum_index
        start = (g * self.dist.world + self.dist.rank) * t.micro_batch_size
        return [self.rows[int(i)] for i in order[start : start + t.micro_batch_size]]

    # -- resume / save ------------------------------------------------------------------------------
    def resume(self) -> None:
        latest = self.checkpoints.latest()
        if latest is None:
            return
        made_with = json.loads((latest / STATE).read_text()).get("world_size")
        if made_with != self.dist.world:
            # ZeRO shards and the data order both depend on the number of ranks.
            raise RunStateError(
                f"{latest}: checkpoint was made with {made_with} ranks, this run has {self.dist.world}; "
                "set train.num_workers back, or pass --new-run to start over"
            )
        state = self.checkpoints.load(self.engine, latest, self.data_fingerprint)
        self.step = int(state["next_step"])
        self.curve = list(state.get("loss_curve", []))
        self.extra_state = dict(state.get("extra", {}))
        if self.dist.is_main:
            log.info("resumed from %s at step %d of %d", latest, self.step, self.total_steps)

    def state(self) -> dict[str, Any]:
        return {
            "next_step": self.step,
            "total_steps": self.total_steps,
            "epoch": self.step / self.per_epoch,
            "data_fingerprint": self.data_fingerprint,
            "world_size": self.dist.world,
            "loss_curve": self.curve,
            "extra": self.extra_state,
        }

    def save(self) -> None:
        if self.checkpoints.latest() is not None and self.checkpoints.latest().name == Checkpoints.tag(self.step):
            return
        self.checkpoints.save(self.engine, self.dist, self.step, self.state(), self.ds_config)

    # -- the loop -----------------------------------------------------------------------------------
    def run(self, micro_loss: MicroLoss) -> None:
        t = self.cfg.train
        self.engine.train()
        while self.step < self.total_steps:
            started = time.perf_counter()
            losses: list[float] = []
            sums: dict[str, float] = {}
            for a in range(t.gradient_accumulation_steps):
                loss, metrics = micro_loss(self.micro_rows(self.step, a))
                self.engine.backward(loss)
                self.engine.step()  # DeepSpeed applies the optimizer only at the accumulation boundary
                losses.append(float(loss.detach().float().item()))
                for k, v in metrics.items():
                    sums[k] = sums.get(k, 0.0) + v
            self.step += 1
            entry = {
                "step": self.step,
                "loss": all_reduce_mean(sum(losses) / len(losses), self.dist.device),
                "lr": float(self.engine.get_lr()[0]),
            }
            for k, v in sums.items():
                reduce = all_reduce_sum if k.startswith("tokens") else all_reduce_mean
                entry[k] = reduce(v if k.startswith("tokens") else v / t.gradient_accumulation_steps, self.dist.device)
            entry["step_s"] = round(time.perf_counter() - started, 4)
            self.curve.append(entry)
            if self.dist.is_main:
                log.info("step %d/%d loss %.4f lr %.2e", self.step, self.total_steps, entry["loss"], entry["lr"])
                write_progress(self.paths.root, self.step, self.total_steps, entry["loss"])
            if self.step % t.save_every_steps == 0 or self.step == self.total_steps:
                self.save()
