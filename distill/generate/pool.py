"""Where teachers run: Ray actors (one engine each) or the driver process, behind one submit/wait interface.

Both pools return `concurrent.futures.Future`s (a Ray ObjectRef converts with `.future()`), so the runner's loop is the
same for both. `TeacherWorker` is a plain class: Ray makes it an actor, the local pool uses it directly.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import os
import threading
from typing import Any

from distill.config import GenerateSection, TeacherSection
from distill.generate.plan import UnitBatch
from distill.generate.synthesize import BatchOutcome, TeacherInfo, synthesize

log = logging.getLogger(__name__)


class TeacherWorker:
    """Builds its teacher once, then turns unit batches into dialogues + rejects."""

    def __init__(self, teacher_cfg: TeacherSection, gen_cfg: GenerateSection) -> None:
        from distill.teachers import build_teacher

        self.teacher = build_teacher(teacher_cfg)
        self.gen_cfg = gen_cfg
        self.info = TeacherInfo(model=self.teacher.model, revision=teacher_cfg.revision, backend=self.teacher.backend)

    def run(self, batch: UnitBatch) -> BatchOutcome:
        return synthesize(self.teacher, batch.units, self.gen_cfg, self.info)

    def close(self) -> None:
        self.teacher.close()


def uses_ray(cfg: TeacherSection) -> bool:
    if cfg.placement == "auto":
        # An HTTP client needs no actor, and keeping it in the driver keeps the API key in one process.
        return cfg.backend != "openai"
    return cfg.placement == "ray"


def connect_ray() -> None:
    """Join the cluster in RAY_ADDRESS (or the one this process runs in), else start a local one bound to 127.0.0.1."""
    import ray

    if ray.is_initialized():
        return
    if os.environ.get("RAY_ADDRESS"):
        ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=True)
    else:
        ray.init(address="local", include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=True)


class LocalPool:
    """One teacher in this process; a single thread so the driver keeps writing while it generates."""

    def __init__(self, teacher_cfg: TeacherSection, gen_cfg: GenerateSection) -> None:
        self.worker = TeacherWorker(teacher_cfg, gen_cfg)
        self.executor = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="teacher")
        self.slots = 1

    def submit(self, batch: UnitBatch) -> cf.Future[BatchOutcome]:
        return self.executor.submit(self.worker.run, batch)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.worker.close()


ACTOR_RESTARTS = 4


class RayPool:
    """`num_actors` teacher actors; each batch goes to the actor with the fewest batches queued."""

    def __init__(self, teacher_cfg: TeacherSection, gen_cfg: GenerateSection) -> None:
        import ray

        connect_ray()
        self.actors: list[Any] = []
        self.load: list[int] = []
        self.lock = threading.Lock()  # done-callbacks run on Ray's thread
        self.placement_groups: list[Any] = []
        self.slots = teacher_cfg.num_actors
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
            options = {"max_restarts": ACTOR_RESTARTS, "max_task_retries": ACTOR_RESTARTS, **options}
            self.actors.append(remote.options(**options).remote(teacher_cfg, gen_cfg))
            self.load.append(0)
        # Surface a failing engine start now, with its error, rather than at the first batch.
        ray.get([a.__ray_ready__.remote() for a in self.actors])
        log.info("%d teacher actor(s) ready (%s)", len(self.actors), teacher_cfg.backend)

    def submit(self, batch: UnitBatch) -> cf.Future[BatchOutcome]:
        with self.lock:
            i = min(range(len(self.actors)), key=self.load.__getitem__)
            self.load[i] += 1
        future = self.actors[i].run.remote(batch).future()
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


def make_pool(teacher_cfg: TeacherSection, gen_cfg: GenerateSection) -> LocalPool | RayPool:
    return RayPool(teacher_cfg, gen_cfg) if uses_ray(teacher_cfg) else LocalPool(teacher_cfg, gen_cfg)
