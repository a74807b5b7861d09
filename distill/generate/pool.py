"""Where teachers run: Ray actors (one engine each) or the driver process, behind one submit/wait interface.

Both pools return `concurrent.futures.Future`s (a Ray ObjectRef converts with `.future()`), so the runner's loop is the
same for both. `TeacherWorker` is a plain class: Ray makes it an actor, the local pool uses it directly. With an
`AsyncTeacher` (vLLM's async engine) Ray hosts `AsyncTeacherWorker` instead, an async actor that runs up to
`max_in_flight_per_actor` batches at once on one engine, so the engine batches across them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import os
import threading
from collections.abc import Coroutine
from typing import Any

from distill.config import GenerateSection, TeacherSection
from distill.generate.plan import UnitBatch
from distill.generate.synthesize import BatchOutcome, EngineShare, TeacherInfo, synthesize, synthesize_async
from distill.ray_cluster import connect_ray
from distill.teachers.base import AsyncTeacher, TeacherRequest, TeacherResult

log = logging.getLogger(__name__)


class TeacherWorker:
    """Builds its teacher once, then turns unit batches into dialogues + rejects."""

    def __init__(self, teacher_cfg: TeacherSection, gen_cfg: GenerateSection) -> None:
        from distill.teachers import build_teacher

        self.teacher = build_teacher(teacher_cfg)
        self.gen_cfg = gen_cfg
        self.info = TeacherInfo(model=self.teacher.model, revision=teacher_cfg.revision, backend=self.teacher.backend)
        self.share = EngineShare()

    def run(self, batch: UnitBatch) -> BatchOutcome:
        if isinstance(self.teacher, AsyncTeacher):
            return self.teacher.submit(self._episodes(batch)).result()
        return synthesize(self.teacher, batch.units, self.gen_cfg, self.info)

    def _episodes(self, batch: UnitBatch) -> Coroutine[Any, Any, BatchOutcome]:
        return synthesize_async(self.teacher, batch.units, self.gen_cfg, self.info, batch=batch.index, share=self.share)  # type: ignore[arg-type]

    def answer(self, requests: list[TeacherRequest]) -> list[TeacherResult]:
        """Plain requests in, results out, on the same engine: for labellers and judges, which need no synthesis
        loop."""
        return self.teacher.generate(requests)

    def engine_loads(self) -> int:
        """Teachers built in this worker's process (an actor's own process: 1 unless something rebuilt it)."""
        from distill.teachers import teacher_builds

        return teacher_builds()

    def close(self) -> None:
        self.teacher.close()


class AsyncTeacherWorker(TeacherWorker):
    """The Ray actor for an `AsyncTeacher`: an async `run`, so the batches it has in flight share the engine."""

    async def run(self, batch: UnitBatch) -> BatchOutcome:  # type: ignore[override]
        return await asyncio.wrap_future(self.teacher.submit(self._episodes(batch)))

    async def answer(self, requests: list[TeacherRequest]) -> list[TeacherResult]:  # type: ignore[override]
        # The blocking call on a thread: the actor's loop stays free to take the next batch, and the engine batches
        # both.
        return await asyncio.to_thread(self.teacher.generate, requests)


def uses_async_engine(cfg: TeacherSection) -> bool:
    return cfg.backend == "vllm" and cfg.async_engine


def engine_env(cfg: TeacherSection) -> dict[str, Any]:
    """Ray gives an actor OMP_NUM_THREADS = its CPUs when the user set none; vLLM takes any OMP_NUM_THREADS for the
    user's and then keeps its scheduler process multi-threaded, whose spinning OMP threads steal the cores the model
    worker computes on (measured in bench.generate_throughput). vLLM's own marker says the value is not the user's,
    so the engine sizes its threads as in a plain process."""
    if cfg.backend != "vllm" or "OMP_NUM_THREADS" in os.environ:
        return {}
    return {"runtime_env": {"env_vars": {"VLLM_OMP_NUM_THREADS_SET_BY_VLLM": "1"}}}


def uses_ray(cfg: TeacherSection) -> bool:
    if cfg.placement == "auto":
        # An HTTP client needs no actor, and keeping it in the driver keeps the API key in one process.
        return cfg.backend not in ("openai", "openai_batch")
    return cfg.placement == "ray"


class LocalPool:
    """One teacher in this process, on worker threads so the driver keeps writing while it generates."""

    def __init__(self, teacher_cfg: TeacherSection, gen_cfg: GenerateSection) -> None:
        self.worker = TeacherWorker(teacher_cfg, gen_cfg)
        # An async teacher serves several batches at once on its own loop, and a batch API's waits overlap on threads;
        # another sync one takes them one after another.
        concurrent = isinstance(self.worker.teacher, AsyncTeacher) or getattr(
            self.worker.teacher, "serves_batches_concurrently", False
        )
        workers = gen_cfg.max_in_flight_per_actor if concurrent else 1
        self.executor = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="teacher")
        self.slots = 1

    def submit(self, batch: UnitBatch) -> cf.Future[BatchOutcome]:
        return self.executor.submit(self.worker.run, batch)

    def submit_requests(self, requests: list[TeacherRequest]) -> cf.Future[list[TeacherResult]]:
        return self.executor.submit(self.worker.answer, requests)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.worker.close()


ACTOR_RESTARTS = 4


class RayPool:
    """`num_actors` teacher actors; each batch goes to the actor with the fewest batches queued."""

    def __init__(self, teacher_cfg: TeacherSection, gen_cfg: GenerateSection) -> None:
        import ray

        connect_ray()
        self.teacher_cfg = teacher_cfg
        self.actors: list[Any] = []
        self.load: list[int] = []
        self.lock = threading.Lock()  # done-callbacks run on Ray's thread
        self.placement_groups: list[Any] = []
        self.slots = teacher_cfg.num_actors
        concurrency: dict[str, Any] = {}
        if uses_async_engine(teacher_cfg):
            remote = ray.remote(AsyncTeacherWorker)
            # One event loop per actor; max_concurrency lets the runner's in-flight batches all run (and share the
            # engine).
            concurrency = {"max_concurrency": gen_cfg.max_in_flight_per_actor}
        else:
            remote = ray.remote(TeacherWorker)
        for i in range(teacher_cfg.num_actors):
            if teacher_cfg.backend == "vllm":
                from distill.teachers.vllm_backend import actor_options

                options = actor_options(teacher_cfg, i)
            else:
                options = {"num_cpus": teacher_cfg.num_cpus_per_actor}
            strategy = options.get("scheduling_strategy")
            if strategy is not None:
                self.placement_groups.append(strategy.placement_group)
            # A lost node or a crashed engine restarts the actor elsewhere and replays its queued batches. Replaying is
            # safe: a batch's output is written by the driver only when its result arrives, and seeds make it identical.
            options = {
                "max_restarts": ACTOR_RESTARTS,
                "max_task_retries": ACTOR_RESTARTS,
                **concurrency,
                **engine_env(teacher_cfg),
                **options,
            }
            self.actors.append(remote.options(**options).remote(teacher_cfg, gen_cfg))
            self.load.append(0)
        # Surface a failing engine start now, with its error, rather than at the first batch.
        ray.get([a.__ray_ready__.remote() for a in self.actors])
        log.info("%d teacher actor(s) ready (%s)", len(self.actors), teacher_cfg.backend)

    def submit(self, batch: UnitBatch) -> cf.Future[BatchOutcome]:
        return self._call("run", batch)

    def submit_requests(self, requests: list[TeacherRequest]) -> cf.Future[list[TeacherResult]]:
        return self._call("answer", requests)

    def requests_client(self) -> PooledTeacher:
        """A `Teacher` that other processes (Ray tasks) can carry, answering on this pool's engines."""
        return PooledTeacher(list(self.actors), backend=self.teacher_cfg.backend, model=self.teacher_cfg.model)

    def engine_loads(self) -> int:
        import ray

        return sum(ray.get([a.engine_loads.remote() for a in self.actors]))

    def _call(self, method: str, arg: Any) -> cf.Future[Any]:
        with self.lock:
            i = min(range(len(self.actors)), key=self.load.__getitem__)
            self.load[i] += 1
        future = getattr(self.actors[i], method).remote(arg).future()
        future.add_done_callback(lambda _f, i=i: self._release(i))
        return future

    def _release(self, i: int) -> None:
        with self.lock:
            self.load[i] -= 1

    def close(self) -> None:
        import ray

        # Engines are shut down inside their actors before the actors go, or their worker processes linger.
        try:
            ray.get([a.close.remote() for a in self.actors], timeout=120)
        except Exception as exc:  # a dead actor cannot close; killing it below is all that is left
            log.warning("teacher actor close failed: %s", exc)
        for actor in self.actors:
            ray.kill(actor)
        self.actors.clear()
        for pg in self.placement_groups:
            ray.util.remove_placement_group(pg)
        self.placement_groups.clear()


class PooledTeacher:
    """The `Teacher` protocol over a `RayPool`'s long-lived actors, for work that runs in Ray tasks (curation's judge):
    every shard's requests go to the same engines, loaded once, instead of each task building its own. It holds only
    actor handles, so Ray ships it to tasks; an actor's queue is the backpressure (a task waits for its answers).
    A request is answered exactly once: nothing is written before its result is back, and a replay after an actor
    restart is the same greedy, seeded request."""

    def __init__(self, actors: list[Any], *, backend: str, model: str) -> None:
        self.actors, self.backend, self.model = actors, backend, model

    def generate(self, requests: list[TeacherRequest]) -> list[TeacherResult]:
        import random

        import ray

        if not requests:
            return []
        # Contiguous parts, one per actor, so the answers concatenate back in request order; a random first actor
        # spreads the small calls of many tasks.
        size = -(-len(requests) // len(self.actors))
        first = random.randrange(len(self.actors))
        parts = [requests[i : i + size] for i in range(0, len(requests), size)]
        refs = [self.actors[(first + k) % len(self.actors)].answer.remote(part) for k, part in enumerate(parts)]
        return [result for answered in ray.get(refs) for result in answered]

    def close(self) -> None:
        """Nothing to release here: the pool's owner closes the engines."""


def make_pool(teacher_cfg: TeacherSection, gen_cfg: GenerateSection) -> LocalPool | RayPool:
    return RayPool(teacher_cfg, gen_cfg) if uses_ray(teacher_cfg) else LocalPool(teacher_cfg, gen_cfg)
