"""`distill submit` and `distill job status|logs|stop`: run stages on a Ray cluster through its job server."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

AddressOpt = Annotated[
    str,
    typer.Option(
        "--address", envvar="RAY_ADDRESS", help="Ray job server, e.g. http://127.0.0.1:8265 (or $RAY_ADDRESS)."
    ),
]

job_app = typer.Typer(help="Status, logs and stop for submitted jobs.", no_args_is_help=True)


def submit(
    config: Annotated[str, typer.Argument(help="Config path relative to --working-dir, or a packaged config name.")],
    overrides: Annotated[
        list[str] | None, typer.Argument(help="key=value overrides passed to the job.", show_default=False)
    ] = None,
    address: AddressOpt = "http://127.0.0.1:8265",
    stage: Annotated[str, typer.Option(help="seeds, generate, curate, train, evaluate or pipeline.")] = "pipeline",
    working_dir: Annotated[str, typer.Option(help="Project folder uploaded as the job's working_dir.")] = ".",
    pip: Annotated[list[str] | None, typer.Option(help="Extra pip requirement for the job env (repeatable).")] = None,
    uv: Annotated[list[str] | None, typer.Option(help="Extra uv requirement for the job env (repeatable).")] = None,
    conda: Annotated[str | None, typer.Option(help="Conda env name on the cluster, or an env YAML.")] = None,
    env: Annotated[
        list[str] | None, typer.Option(help="NAME=VALUE env var for the job (repeatable; shown in logs).")
    ] = None,
    secret_env: Annotated[
        list[str] | None, typer.Option(help="NAME of a local env var to forward without printing it (repeatable).")
    ] = None,
    num_cpus: Annotated[float | None, typer.Option(help="CPUs reserved for the entrypoint.")] = None,
    num_gpus: Annotated[float | None, typer.Option(help="GPUs reserved for the entrypoint.")] = None,
    wait: Annotated[
        bool,
        typer.Option("--wait/--no-wait", help="Follow logs until the job ends; exit non-zero unless it succeeded."),
    ] = True,
    timeout_s: Annotated[float | None, typer.Option(help="Stop following after this many seconds.")] = None,
) -> None:
    """Submit `python -m ray_jobs.<stage> --config CONFIG` to a Ray cluster and follow it."""
    from distill.errors import ConfigError
    from distill.submit import SubmitRequest, follow
    from distill.submit import submit as do_submit

    plain: dict[str, str] = {}
    for item in env or []:
        if "=" not in item:
            raise ConfigError(f"--env {item!r} is not NAME=VALUE")
        key, value = item.split("=", 1)
        plain[key] = value
    req = SubmitRequest(
        config=config,
        stage=stage,
        overrides=list(overrides or []),
        working_dir=working_dir,
        pip=list(pip or []),
        uv=list(uv or []),
        conda=conda,
        env=plain,
        secret_env=list(secret_env or []),
        entrypoint_num_cpus=num_cpus,
        entrypoint_num_gpus=num_gpus,
    )
    job_id = do_submit(address, req)
    typer.echo(f"submitted {job_id}", err=True)
    if not wait:
        typer.echo(job_id)
        return
    final = follow(address, job_id, lambda text: (sys.stdout.write(text), sys.stdout.flush()), timeout_s=timeout_s)
    typer.echo(f"job {job_id}: {final}", err=True)
    if final != "SUCCEEDED":
        raise typer.Exit(1)


@job_app.command("status")
def status(job_id: str, address: AddressOpt = "http://127.0.0.1:8265") -> None:
    """Print the job's status (PENDING, RUNNING, SUCCEEDED, FAILED, STOPPED)."""
    from distill.submit import status as get_status

    typer.echo(get_status(address, job_id))


@job_app.command("logs")
def logs(
    job_id: str,
    address: AddressOpt = "http://127.0.0.1:8265",
    follow_logs: Annotated[bool, typer.Option("--follow", "-f", help="Stream until the job ends.")] = False,
) -> None:
    """Print the job's logs."""
    from distill.submit import follow
    from distill.submit import logs as get_logs

    if follow_logs:
        final = follow(address, job_id, lambda text: (sys.stdout.write(text), sys.stdout.flush()))
        typer.echo(f"job {job_id}: {final}", err=True)
    else:
        typer.echo(get_logs(address, job_id), nl=False)


@job_app.command("stop")
def stop(job_id: str, address: AddressOpt = "http://127.0.0.1:8265") -> None:
    """Ask the cluster to stop the job."""
    from distill.submit import stop as do_stop

    typer.echo("stopping" if do_stop(address, job_id) else "already finished")
