"""Seed rows for generation tests: three kinds (single-turn Q&A, multi-turn, one seeker line), written straight into a
run's seeds folder as the seeds stage would leave it."""

from __future__ import annotations

from typing import Any

from distill import stages
from distill.config import RunConfig
from distill.records import SEED, make_id
from distill.run_dir import RunDir
from distill.shards import ShardWriter

SEEDS: list[dict[str, Any]] = [
    {  # single-turn Q&A (PsyQA/SoulChat style): rewrite, continue, selfchat
        "source": "test_qa",
        "language": "en",
        "emotion": "anxious",
        "situation": None,
        "messages": [
            {
                "role": "user",
                "content": "I start a new job on Monday and I cannot sleep. What if everyone sees I am not good "
                "enough?",
            },
            {
                "role": "assistant",
                "content": "Starting something new often brings this fear. It shows you care. Notice which thoughts "
                "keep you awake, "
                "write them down, and remember they hired you for a reason. Be patient with yourself in the first "
                "weeks.",
            },
        ],
    },
    {  # multi-turn (ED/ESConv style): continue and selfchat
        "source": "test_multi",
        "language": "en",
        "emotion": "lonely",
        "situation": "My best friend moved to another country and I feel alone.",
        "messages": [
            {"role": "user", "content": "My best friend moved away last month."},
            {"role": "assistant", "content": "That is a big change. How have you been since?"},
            {"role": "user", "content": "Honestly, lonely. Weekends are the worst."},
            {"role": "assistant", "content": "Weekends used to be your time together, so they feel empty now."},
        ],
    },
    {  # situation only in spirit: one seeker line
        "source": "test_multi",
        "language": "en",
        "emotion": "sad",
        "situation": "My dog died last week.",
        "messages": [{"role": "user", "content": "My dog died last week and the house feels empty."}],
    },
]


def seed_rows(n: int, skip: int = 0) -> list[dict[str, Any]]:
    """n seed rows cycling through the kinds above (from kind `skip` on), each with its own id."""
    rows = []
    for i in range(skip, skip + n):
        base = SEEDS[i % len(SEEDS)]
        license = ("Apache-2.0", "CC-BY-NC-4.0")[i % 2]
        rows.append({**base, "id": make_id("test", i), "metadata": "{}", "license": license})
    return rows


def write_seeds(cfg: RunConfig, n: int, skip: int = 0) -> list[dict[str, Any]]:
    """Seeds as the seeds stage would leave them (stage marked done, so generation does not reload them)."""
    run = RunDir(cfg)
    run.claim_stage(stages.SEEDS)
    rows = seed_rows(n, skip)
    with ShardWriter(run.seeds, SEED, rows_per_shard=max(1, n // 2)) as out:
        out.write(rows)
    run.finish_stage("seeds")
    return rows
