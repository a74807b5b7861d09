"""`python -m ray_jobs.generate --config X.yaml [key=value ...]`: the generate stage as a Ray job (resumable)."""

import sys

from ray_jobs._entry import run_entrypoint

if __name__ == "__main__":
    sys.exit(run_entrypoint("generate"))
