"""The shared main() of every entrypoint: argument parsing, logging, user errors as one line + exit 2."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from distill.config import RunConfig, load_config
from distill.errors import DistillError, as_user_error


def run_entrypoint(stage: str, fn: Callable[[RunConfig], object], argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m ray_jobs.{stage}",
        description=f"Run the {stage} stage (usable verbatim as a `ray job submit` entrypoint).",
    )
    parser.add_argument("--config", "-c", default=None, help="YAML config file or packaged config name (e.g. demo)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. generate.variants_per_seed=4")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        cfg = load_config(args.config, args.overrides)
        result = fn(cfg)
        if isinstance(result, (list, tuple)) or hasattr(result, "__next__"):
            for line in result:  # a generator (the pipeline) runs its stages here, so its errors are caught below
                print(line)
    except (DistillError, OSError) as exc:  # a full or unwritable output folder is the user's to fix; other OSErrors are bugs
        err = as_user_error(exc)
        if err is None:
            raise
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    return 0
