"""`python -m ray_jobs.seeds --config X.yaml`: load and validate seed dialogues into the run folder."""

import sys

from ray_jobs._entry import run_entrypoint

if __name__ == "__main__":
    sys.exit(run_entrypoint("seeds"))
