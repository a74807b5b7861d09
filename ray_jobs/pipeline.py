"""`python -m ray_jobs.pipeline --config X.yaml`: every stage in one run folder, resumable."""

import sys

from ray_jobs._entry import run_entrypoint

if __name__ == "__main__":
    sys.exit(run_entrypoint("pipeline"))
