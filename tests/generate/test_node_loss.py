"""A two-node local Ray cluster loses a worker node during generation: no unit is lost or written twice."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from distill.generate import run_generate
from distill.generate.resume import done_batches
from distill.run_dir import RunDir
from distill.shards import iter_rows
from tests.support.seeds import write_seeds

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_killing_a_worker_node_mid_run_loses_and_duplicates_nothing(make_cfg, monkeypatch):
    import ray
    from ray.cluster_utils import Cluster
    from ray.util.state import list_actors

    # One CPU per worker node, so the two teacher actors land on different nodes, one of them on the doomed node.
    # The dashboard serves the state API used below to see where the actors live.
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": True, "dashboard_port": free_port()}
    )
    doomed = cluster.add_node(num_cpus=1)
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    ray.init(address=cluster.address)
    try:
        cfg = make_cfg(
            "teacher.backend=dryrun", "teacher.placement=ray", "teacher.num_actors=2", "teacher.dryrun_latency_s=0.3",
            "generate.modes=[continue, selfchat]", "generate.variants_per_seed=2", "generate.units_per_shard=2",
            "generate.selfchat_turns=2", "generate.continue_turns=1",
        )  # fmt: skip
        write_seeds(cfg, 10)  # 10 seeds x 2 modes x 2 variants = 40 units in 20 batches
        run = RunDir(cfg)
        errors: list[BaseException] = []

        def generate() -> None:
            try:
                run_generate(cfg)
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        worker = threading.Thread(target=generate)
        worker.start()
        deadline = time.monotonic() + 120
        while len(done_batches(run.generated)) < 3:
            assert worker.is_alive() and time.monotonic() < deadline, errors
            time.sleep(0.05)
        teachers = [
            a
            for a in list_actors(address=cluster.address, filters=[("state", "=", "ALIVE")])
            if a.class_name == "TeacherWorker"
        ]
        assert doomed.node_id in {a.node_id for a in teachers}, "no teacher ran on the node about to die"
        cluster.add_node(num_cpus=1)  # where the lost actor is restarted
        cluster.remove_node(doomed)  # the node and the actor on it die mid-run, with batches queued
        worker.join(timeout=300)
        assert len(done_batches(run.generated)) == 20
        assert not worker.is_alive() and errors == []

        plan = [r["id"] for r in iter_rows(run.plan)]
        ids = [r["id"] for r in iter_rows(run.generated)] + [r["id"] for r in iter_rows(run.rejects("generate"))]
        assert len(plan) == 40
        assert len(ids) == len(set(ids)), "a unit was written twice"
        assert set(ids) == set(plan), "a unit was lost"
        assert run.stage_done("generate")
    finally:
        ray.shutdown()
        cluster.shutdown()
