"""`python -m ray_jobs.curate --config X.yaml [key=value ...]`: the curate stage; inside a Ray job (RAY_ADDRESS set) the
per-shard passes run as Ray tasks (`curate.executor: auto`), the global dedup steps on the driver."""

import sys

from ray_jobs._entry import run_entrypoint

if __name__ == "__main__":
    sys.exit(run_entrypoint("curate"))
