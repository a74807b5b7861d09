"""Submit a stage to a Ray cluster as a job, follow it, and turn its end state into an exit code.

Built on Ray's `JobSubmissionClient`: the job runs `python -m ray_jobs.<stage> --config <file>` in a
`runtime_env` whose working_dir is the project folder (Ray honours .gitignore, so .venv and runs/ stay
home). Secret env vars are forwarded by *name*: their values go to Ray, never to our logs or files.
Note that Ray keeps a job's runtime_env in its job table; on shared clusters prefer Kubernetes secrets
(see cluster/kuberay/rayjob.yaml) over forwarding.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill.errors import ConfigError, InputError
from distill.stages import STAGE_NAMES

log = logging.getLogger(__name__)

STAGES = (*STAGE_NAMES, "pipeline")  # each runs as `python -m ray_jobs.<stage>`
TERMINAL = {"SUCCEEDED", "FAILED", "STOPPED"}


@dataclass
class SubmitRequest:
    config: str
    stage: str = "pipeline"
    overrides: list[str] = field(default_factory=list)
    working_dir: str = "."
    pip: list[str] = field(default_factory=list)  # extra requirements for the job's environment
    uv: list[str] = field(default_factory=list)
    conda: str | None = None  # name of an existing conda env on the cluster, or a path to an env YAML
    env: dict[str, str] = field(default_factory=dict)  # plain values, shown in logs
    secret_env: list[str] = field(default_factory=list)  # names whose local values are forwarded, never shown
    entrypoint_num_cpus: float | None = None
    entrypoint_num_gpus: float | None = None
    submission_id: str | None = None


def build_entrypoint(req: SubmitRequest) -> str:
    if req.stage not in STAGES:
        raise ConfigError(f"unknown stage {req.stage!r}; expected one of {', '.join(STAGES)}")
    return shlex.join(["python", "-m", f"ray_jobs.{req.stage}", "--config", req.config, *req.overrides])


def build_runtime_env(req: SubmitRequest) -> dict[str, Any]:
    working_dir = Path(req.working_dir)
    if not (working_dir / "ray_jobs").is_dir():
        raise InputError(f"{working_dir.resolve()}: not the project folder (no ray_jobs/); pass --working-dir")
    env_vars = dict(req.env)
    for name in req.secret_env:
        value = os.environ.get(name)
        if value is None:
            raise InputError(f"--secret-env {name}: the variable is not set in this shell")
        env_vars[name] = value
    runtime_env: dict[str, Any] = {"working_dir": str(working_dir)}
    if env_vars:
        runtime_env["env_vars"] = env_vars
    if sum(bool(x) for x in (req.pip, req.uv, req.conda)) > 1:
        raise ConfigError("choose one of --pip, --uv or --conda for the job environment")
    if req.pip:
        runtime_env["pip"] = req.pip
    if req.uv:
        runtime_env["uv"] = req.uv
    if req.conda:
        runtime_env["conda"] = req.conda
    return runtime_env


def redacted(runtime_env: dict[str, Any], secret_names: list[str]) -> dict[str, Any]:
    """The runtime_env as it may be logged: secret values replaced."""
    shown = dict(runtime_env)
    if "env_vars" in shown:
        shown["env_vars"] = {k: ("***" if k in secret_names else v) for k, v in shown["env_vars"].items()}
    return shown


def _client(address: str) -> Any:
    from ray.job_submission import JobSubmissionClient

    try:
        return JobSubmissionClient(address)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise InputError(f"cannot reach the Ray job server at {address}: {exc}") from None


def submit(address: str, req: SubmitRequest) -> str:
    client = _client(address)
    entrypoint = build_entrypoint(req)
    runtime_env = build_runtime_env(req)
    log.info("submitting %s with runtime_env %s", entrypoint, redacted(runtime_env, req.secret_env))
    return client.submit_job(
        entrypoint=entrypoint,
        runtime_env=runtime_env,
        submission_id=req.submission_id,
        entrypoint_num_cpus=req.entrypoint_num_cpus,
        entrypoint_num_gpus=req.entrypoint_num_gpus,
        metadata={"tool": "empathy-distill", "stage": req.stage},
    )


def status(address: str, job_id: str) -> str:
    return str(_client(address).get_job_status(job_id).value)


def stop(address: str, job_id: str) -> bool:
    return bool(_client(address).stop_job(job_id))


def logs(address: str, job_id: str) -> str:
    return str(_client(address).get_job_logs(job_id))


def follow(
    address: str, job_id: str, write: Callable[[str], object], poll_s: float = 1.0, timeout_s: float | None = None
) -> str:
    """Stream the job's logs to `write` until it ends; returns the final status."""
    client = _client(address)

    async def tail() -> None:
        async for chunk in client.tail_job_logs(job_id):
            write(chunk)

    try:
        asyncio.run(asyncio.wait_for(tail(), timeout=timeout_s))
    except (asyncio.TimeoutError, ConnectionError, RuntimeError) as exc:
        log.warning("log stream ended early (%s); polling the job status", type(exc).__name__)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        state = str(client.get_job_status(job_id).value)
        if state in TERMINAL:
            return state
        if deadline is not None and time.monotonic() > deadline:
            return state
        time.sleep(poll_s)
