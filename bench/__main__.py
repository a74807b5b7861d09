"""`python -m bench` (or `make bench`): run every benchmark, then gather their results into BENCHMARKS.md.

Each benchmark runs in its own process (one engine at a time, so they do not compete for the CPU) and
writes bench/results/<name>.md with the exact command and its figures; this only concatenates them.
`python -m bench --gather` rebuilds BENCHMARKS.md from the results already on disk.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from bench.empathy_agreement import RUN_LOG as EMPATHY_RUN_LOG
from bench.publish import RESULTS

ROOT = Path(__file__).resolve().parent.parent
# (result file, module): the order BENCHMARKS.md lists them in.
BENCHMARKS = (
    ("generate.md", "bench.generate_throughput"),
    ("dedup.md", "bench.dedup"),
    ("train.md", "bench.zero_vs_torch"),
    ("scale.md", "bench.scale"),
    ("empathy.md", "bench.empathy_agreement"),
    ("emotion_inference.md", "bench.emotion_inference"),
    ("view.md", "bench.view"),
    ("generate_styles.md", "bench.generate_styles"),
    ("batch_cost.md", "bench.batch_cost"),
    ("judge_parse.md", "bench.judge_parse"),
)

# Parts another page already includes (empathy.md ends with its run log), so they are not gathered twice.
INCLUDED = {EMPATHY_RUN_LOG.name}


def gather() -> Path:
    parts = [
        "# Benchmarks\n",
        f"Gathered by `python -m bench` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from `bench/results/`. "
        "Each section names the exact command that produced it; ratios are measured side by side in one run.\n",
    ]
    for name, _ in BENCHMARKS:
        path = RESULTS / name
        parts.append(path.read_text().strip() + "\n" if path.exists() else f"## {name}\n\nNot run yet.\n")
    for extra in sorted(RESULTS.glob("*.md")):
        if extra.name not in {n for n, _ in BENCHMARKS} | INCLUDED:
            parts.append(extra.read_text().strip() + "\n")
    out = ROOT / "BENCHMARKS.md"
    out.write_text("\n".join(parts))
    return out


def main(argv: list[str]) -> int:
    if "--gather" not in argv:
        for _, module in BENCHMARKS:
            print(f"== {module}", flush=True)
            if subprocess.run([sys.executable, "-m", module], cwd=ROOT).returncode != 0:
                print(f"{module} failed", file=sys.stderr)
                return 1
    print(gather())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
