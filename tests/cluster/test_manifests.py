"""Every cluster manifest parses and wires up what the entrypoints depend on."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from distill.config import load_config

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = sorted((REPO / "cluster").rglob("*.yaml"))


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_manifests_exist() -> None:
    names = {p.relative_to(REPO / "cluster").as_posix() for p in MANIFESTS}
    assert {"kuberay/raycluster.yaml", "kuberay/rayjob.yaml", "launcher/aws.yaml"} <= names


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_parses_and_opens_with_a_comment(path: Path) -> None:
    assert isinstance(load(path), dict)
    assert path.read_text().startswith("#")


def _cluster_spec(doc: dict) -> dict:
    return doc["spec"]["rayClusterSpec"] if doc["kind"] == "RayJob" else doc["spec"]


@pytest.mark.parametrize("name", ["raycluster.yaml", "rayjob.yaml"])
def test_kuberay_groups(name: str) -> None:
    doc = load(REPO / "cluster" / "kuberay" / name)
    assert doc["apiVersion"] == "ray.io/v1" and doc["kind"] in ("RayCluster", "RayJob")
    spec = _cluster_spec(doc)
    groups = {g["groupName"]: g for g in spec["workerGroupSpecs"]}
    assert set(groups) == {"gpu-teacher", "cpu-curation", "gpu-train"}
    for gname in ("gpu-teacher", "gpu-train"):
        group = groups[gname]
        container = group["template"]["spec"]["containers"][0]
        gpus = int(container["resources"]["limits"]["nvidia.com/gpu"])
        assert int(group["rayStartParams"]["num-gpus"]) == gpus >= 1
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
    head = spec["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0"
    ports = {p["containerPort"] for p in head["template"]["spec"]["containers"][0].get("ports", [])}
    if doc["kind"] == "RayCluster":
        assert 8265 in ports  # the job server `distill submit` talks to
    # Secrets come from Kubernetes secrets, never literal values.
    for group in [head, *groups.values()]:
        for c in group["template"]["spec"]["containers"]:
            for env in c.get("env", []):
                if "KEY" in env["name"] or "TOKEN" in env["name"]:
                    assert "valueFrom" in env and "value" not in env


def test_rayjob_entrypoint_is_a_real_stage_with_a_loadable_config() -> None:
    doc = load(REPO / "cluster" / "kuberay" / "rayjob.yaml")
    argv = shlex.split(doc["spec"]["entrypoint"])
    assert argv[:2] == ["python", "-m"]
    module = argv[2]
    assert module.startswith("ray_jobs.") and (REPO / (module.replace(".", "/") + ".py")).is_file()
    config = argv[argv.index("--config") + 1]
    overrides = argv[argv.index("--config") + 2 :]
    cfg = load_config(REPO / config, overrides)
    assert cfg.run.output_dir.startswith("/data")  # on the shared volume, so outputs outlive the cluster
    runtime_env = yaml.safe_load(doc["spec"]["runtimeEnvYAML"])
    assert runtime_env["working_dir"] == "/app"
    assert doc["spec"]["shutdownAfterJobFinishes"] is True


def test_launcher_node_types_match_the_groups() -> None:
    doc = load(REPO / "cluster" / "launcher" / "aws.yaml")
    types = doc["available_node_types"]
    assert doc["head_node_type"] in types
    assert types["gpu_teacher"]["resources"]["GPU"] >= 1 and types["gpu_train"]["resources"]["GPU"] >= 1
    assert any("127.0.0.1" in cmd for cmd in doc["head_start_ray_commands"])  # dashboard not exposed publicly
    assert ".venv/" in doc["rsync_exclude"]
