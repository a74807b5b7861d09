"""Ray Train adapter: the same `run_rank` on `TorchTrainer` workers, across as many nodes as the cluster has.

Ray creates the torch process group (gloo on CPU, nccl on GPU); DeepSpeed finds it initialized and reuses it.
Checkpoints and the export go to the run folder, so on a multi-node cluster `run.output_dir` must be shared
storage (NFS, EFS, a mounted bucket) that every node sees at the same path. This is the only module in `train/`
that imports ray.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from distill.config import RunConfig, config_from_dict
from distill.ray_cluster import connect_ray

log = logging.getLogger(__name__)


def _worker_loop(loop_config: dict[str, Any]) -> None:
    import ray.train

    from train.launch import quiet_library_warnings, run_rank

    quiet_library_warnings()
    ctx = ray.train.get_context()
    # DeepSpeed reads these even when the process group exists already.
    os.environ.update(
        {
            "RANK": str(ctx.get_world_rank()),
            "LOCAL_RANK": str(ctx.get_local_rank()),
            "WORLD_SIZE": str(ctx.get_world_size()),
            "LOCAL_WORLD_SIZE": str(ctx.get_local_world_size()),
        }
    )
    logging.basicConfig(
        level=logging.INFO if ctx.get_world_rank() == 0 else logging.WARNING,
        format=f"%(asctime)s rank{ctx.get_world_rank()} %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    run_rank(config_from_dict(loop_config["config"], "<ray train loop config>"))


def launch_ray(cfg: RunConfig) -> None:
    """Run `train.num_workers` ranks as Ray Train workers and wait; a failed worker fails the job."""
    import ray
    import ray.train
    from ray.train.torch import TorchConfig, TorchTrainer

    from train.launch import TrainingFailed
    from train.runtime import TrainPaths

    connect_ray()
    t = cfg.train
    # The driver may sit on a CPU-only head node: ask the cluster, not this machine, whether GPUs exist.
    cuda = t.device == "cuda" or (t.device == "auto" and ray.cluster_resources().get("GPU", 0) > 0)
    env = {} if cuda else {"OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    paths = TrainPaths.of(cfg)
    trainer = TorchTrainer(
        _worker_loop,
        train_loop_config={"config": cfg.model_dump(mode="json")},
        scaling_config=ray.train.ScalingConfig(
            num_workers=t.num_workers,
            use_gpu=cuda,
            resources_per_worker={"CPU": t.num_cpus_per_worker, **({"GPU": 1} if cuda else {})},
        ),
        torch_config=TorchConfig(backend="nccl" if cuda else "gloo"),
        run_config=ray.train.RunConfig(
            name=f"train-{cfg.run.name}",
            storage_path=str(paths.root / "ray"),
            worker_runtime_env={"env_vars": env} if env else None,
        ),
    )
    try:
        trainer.fit()
    except Exception as exc:  # Ray wraps worker errors in its own types; the worker log above has the traceback
        raise TrainingFailed(
            f"Ray Train job failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from exc
