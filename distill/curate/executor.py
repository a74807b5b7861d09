"""Per-shard work in this process or as Ray tasks: the same plain function either way, so unit tests call it directly."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


def resolve_executor(executor: Literal["auto", "local", "ray"]) -> Literal["local", "ray"]:
    """auto -> "ray" inside a Ray job or an initialized Ray session (RAY_ADDRESS set, e.g. by `ray job submit`), else "local"."""
    if executor != "auto":
        return executor
    ray = sys.modules.get("ray")  # only ask Ray if something already imported it
    if os.environ.get("RAY_ADDRESS") or (ray is not None and ray.is_initialized()):
        return "ray"
    return "local"


def map_shards(fn: Callable[..., R], items: Sequence[T], executor: Literal["auto", "local", "ray"], **kwargs: Any) -> list[R]:
    """[fn(item, **kwargs) for item in items], in order; with "ray", one task per item (1 CPU each) on the cluster."""
    if resolve_executor(executor) == "local" or not items:
        return [fn(item, **kwargs) for item in items]
    import ray

    from distill.generate.pool import connect_ray

    connect_ray()
    remote = ray.remote(num_cpus=1, max_retries=2)(fn)
    shared = {k: ray.put(v) for k, v in kwargs.items()}  # put once, not once per task
    refs = [remote.remote(item, **shared) for item in items]
    log.info("curate: %d %s tasks on Ray", len(refs), getattr(fn, "__name__", "shard"))
    return ray.get(refs)
