"""The shared main() of every entrypoint: argument parsing, logging, user errors as one line + exit 2."""

from __future__ import annotations

import argparse
import logging

from distill.cli.console import RunConsole
from distill.cli.run_cmd import drive_pipeline
from distill.cli.summaries import stage_line
from distill.config import load_config
from distill.errors import DistillError, report_user_error
from distill.run_dir import RunDir
from distill.stages import runner, stage_named


def run_entrypoint(stage: str, argv: list[str] | None = None) -> int:
    """`stage` is a name in `distill.stages.STAGES`, or `pipeline` for all of them."""
    parser = argparse.ArgumentParser(
        prog=f"python -m ray_jobs.{stage}",
        description=f"Run the {stage} stage (usable verbatim as a `ray job submit` entrypoint).",
    )
    parser.add_argument("--config", "-c", default=None, help="YAML config file or packaged config name (e.g. demo)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. generate.variants_per_seed=4")
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="engine and library output in the job log too, not only in <run>/logs/",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    try:
        cfg = load_config(args.config, args.overrides)
        with RunConsole(RunDir(cfg).path("logs"), verbose=args.verbose) as console:
            if stage == "pipeline":
                drive_pipeline(cfg, console)  # the generator runs its stages there, so its errors are caught below
            else:
                stats = console.run(stage, runner(stage_named(stage)), cfg)
                console.line(stage_line(stage, stats, RunDir(cfg)))
    except (
        DistillError,
        OSError,
    ) as exc:  # a full or unwritable output folder is the user's to fix; other OSErrors are bugs
        return report_user_error(exc)
    return 0
