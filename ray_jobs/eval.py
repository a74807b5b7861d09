"""`python -m ray_jobs.eval --config X.yaml`: evaluate base/distilled students and the teacher; write eval.json and
report.html."""

import sys

from ray_jobs._entry import run_entrypoint

if __name__ == "__main__":
    sys.exit(run_entrypoint("eval"))
