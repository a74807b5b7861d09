"""`python -m ray_jobs.train --config X.yaml [key=value ...]`: the train stage as a Ray job (set
train.use_ray_train=true for multi-node)."""

import sys

from ray_jobs._entry import run_entrypoint

if __name__ == "__main__":
    sys.exit(run_entrypoint("train"))
