"""Per-shard work in this process or as Ray tasks: the same plain function either way, so unit tests call it
directly."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from distill.ray_cluster import connect_ray

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


def resolve_executor(executor: Literal["auto", "local", "ray"]) -> Literal["local", "ray"]:
    """auto -> "ray" inside a Ray job or an initialized Ray session (RAY_ADDRESS set, e.g. by `ray job submit`), else
    "local"."""
    if executor != "auto":
        return executor
    ray = sys.modules.get("ray")  # only ask Ray if something already imported it
    if os.environ.get("RAY_ADDRESS") or (ray is not None and ray.is_initialized()):
        return "ray"
    return "local"


def map_shards(
    fn: Callable[..., R], items: Sequence[T], executor: Literal["auto", "local", "ray"], **kwargs: Any
) -> list[R]:
    """[fn(item, **kwargs) for item in items], in order; with "ray", one task per item (1 CPU each) on the cluster."""
    if resolve_executor(executor) == "local" or not items:
        return [fn(item, **kwargs) for item in items]
    import ray

    connect_ray()
    remote = ray.remote(num_cpus=1, max_retries=2)(fn)
    shared = {k: ray.put(v) for k, v in kwargs.items()}  # put once, not once per task
    refs = [remote.remote(item, **shared) for item in items]
    log.info("curate: %d %s tasks on Ray", len(refs), getattr(fn, "__name__", "shard"))
    return ray.get(refs)


class _ActorWork:
    """Holds what `build` made (a model, loaded once) and runs `fn(item, <state_key>=state, **kwargs)` on each item."""

    def __init__(
        self, build: Callable[..., Any], build_kwargs: dict[str, Any], state_key: str, threads: int | None
    ) -> None:
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.state = build(**build_kwargs)
        self.state_key = state_key
        self.builds = 1  # read back by the driver: the model was loaded once in this actor, however many items it ran

    def run(self, fn: Callable[..., R], item: Any, kwargs: dict[str, Any]) -> R:
        return fn(item, **{self.state_key: self.state}, **kwargs)

    def build_count(self) -> int:
        return self.builds


def map_on_actors(
    fn: Callable[..., R],
    items: Sequence[T],
    *,
    build: Callable[..., Any],
    build_kwargs: dict[str, Any],
    state_key: str,
    actors: int,
    num_cpus: float,
    num_gpus: float,
    **kwargs: Any,
) -> tuple[list[R], int]:
    """Like `map_shards` with "ray", but on long-lived actors: `build(**build_kwargs)` runs once per actor (a model
    load), and every item is `fn(item, state_key=that, **kwargs)` on whichever actor is free. Returns the results in
    item order and the number of builds (one per actor, so a caller can check no item paid for its own load)."""
    if not items:
        return [], 0
    import ray
    from ray.util import ActorPool

    connect_ray()
    worker = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus, max_restarts=1, max_task_retries=2)(_ActorWork)
    threads = max(1, int(num_cpus))
    handles = [worker.remote(build, build_kwargs, state_key, threads) for _ in range(min(actors, len(items)))]
    shared = ray.put(kwargs)  # put once, not once per item
    log.info("curate: %d items on %d %s actors", len(items), len(handles), getattr(fn, "__name__", "shard"))
    results = list(ActorPool(handles).map(lambda actor, item: actor.run.remote(fn, item, shared), items))
    builds = sum(ray.get([h.build_count.remote() for h in handles]))
    for handle in handles:
        ray.kill(handle)  # the model's memory goes back before dedup starts
    return results, builds
