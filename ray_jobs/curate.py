"""`python -m ray_jobs.curate --config X.yaml [key=value ...]`: the curate stage; inside a Ray job (RAY_ADDRESS set) the
per-shard passes run as Ray tasks (`curate.executor: auto`), the global dedup steps on the driver."""

import sys

from distill.config import RunConfig
from distill.curate import run_curate
from ray_jobs._entry import run_entrypoint


def curate(cfg: RunConfig) -> list[str]:
    stats = run_curate(cfg)
    c = stats.counters
    return [f"curate: {c['dialogues_in']} in, {c['curated']} curated, {c['rejected']} rejected, {c['samples']} samples, "
            f"{c['preference_pairs']} preference pairs (executor: {stats.info.get('executor')})"]


if __name__ == "__main__":
    sys.exit(run_entrypoint("curate", curate))
