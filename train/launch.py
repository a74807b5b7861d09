"""Run the ranks of one training job: `run_rank` is what every rank executes, `launch_local` starts them on this node.

Any launcher that sets RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT works with the rank entry:
    torchrun --nproc-per-node 2 -m train.launch --config X.yaml
    deepspeed --num_gpus 2 --module train.launch --config X.yaml
`launch_local` does the same with plain subprocesses (one per rank), which is what `distill train` uses.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from distill.atomic import atomic_write_text
from distill.config import RunConfig, dump_config, load_config
from distill.errors import DistillError

log = logging.getLogger(__name__)


class TrainingFailed(DistillError):
    """A training rank exited with an error; its own log lines above say why."""

    exit_code = 1


def make_recipe(cfg: RunConfig) -> Any:
    if cfg.train.recipe == "dpo":
        from train.dpo import DPORecipe

        return DPORecipe(cfg)
    from train.sft import SFTRecipe

    return SFTRecipe(cfg)


def run_rank(cfg: RunConfig) -> None:
    """setup -> train -> save (checkpoint + HF export) -> cleanup, on this rank."""
    recipe = make_recipe(cfg)
    try:
        recipe.setup()
        recipe.train()
        recipe.save()
    finally:
        recipe.cleanup()


def quiet_library_warnings() -> None:
    """torch.distributed warns on every collective DeepSpeed issues with a deprecated name; one per step per rank
    drowns the log."""
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.distributed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch_local(cfg: RunConfig, config_path: Path) -> None:
    """Start `train.num_workers` rank processes on this machine and wait for all; one failure stops the others."""
    from train.runtime import use_cuda

    cuda = use_cuda(cfg.train)
    atomic_write_text(config_path, dump_config(cfg))
    world = cfg.train.num_workers
    port = _free_port()
    procs = []
    for rank in range(world):
        env = {
            **os.environ,
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": str(world),
            "LOCAL_WORLD_SIZE": str(world),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
        if not cuda:
            env["OMP_NUM_THREADS"] = "1"  # ranks share the cores; more threads per rank only contend
            env["CUDA_VISIBLE_DEVICES"] = ""
        procs.append(subprocess.Popen([sys.executable, "-m", "train.launch", "--config", str(config_path)], env=env))
    failed: tuple[int, int] | None = None
    try:
        while any(p.poll() is None for p in procs):
            for rank, p in enumerate(procs):
                if p.poll() not in (None, 0) and failed is None:
                    failed = (rank, p.returncode)
            if failed:
                break
            time.sleep(0.2)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    if failed is None:
        failed = next(((r, p.returncode) for r, p in enumerate(procs) if p.returncode != 0), None)
    if failed is not None:
        raise TrainingFailed(
            f"training rank {failed[0]} exited with code {failed[1]} (its output is in the run's logs/train.log, or "
            "above with --verbose); "
            "rerun the same command to resume from the last checkpoint"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m train.launch",
        description="One training rank (started by torchrun, deepspeed or distill train).",
    )
    parser.add_argument("--config", "-c", required=True)
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args(argv)
    rank = os.environ.get("RANK", "0")
    quiet_library_warnings()
    logging.basicConfig(
        level=logging.INFO if rank == "0" else logging.WARNING,
        format=f"%(asctime)s rank{rank} %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for key, value in (("RANK", "0"), ("LOCAL_RANK", "0"), ("WORLD_SIZE", "1"), ("MASTER_ADDR", "127.0.0.1")):
        os.environ.setdefault(key, value)
    os.environ.setdefault("MASTER_PORT", str(_free_port()))
    try:
        run_rank(load_config(args.config, args.overrides))
    except DistillError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
