"""`python -m ray_jobs.evaluate --config X.yaml`: evaluate base/distilled students and the teacher; write eval.json and report.html."""

import sys

from distill.evaluate import run_evaluate
from ray_jobs._entry import run_entrypoint

if __name__ == "__main__":
    sys.exit(run_entrypoint("evaluate", run_evaluate))
