"""Training inputs written by hand: six seeker/supporter dialogues as curated rows and preference pairs, and the run
config the training tests start from (a tiny student, fp32, ZeRO-2 on 2 workers, a few steps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from distill.config import RunConfig, load_config
from distill.records import DIALOGUE, PREFERENCE_PAIR, make_id
from distill.run_dir import RunDir
from distill.shards import ShardWriter

SEEKER = [
    "I failed my driving test again and I feel stupid.",
    "My sister stopped talking to me after our fight.",
    "I can't sleep because I keep worrying about money.",
    "Work has been so stressful that I cry in the car.",
    "My grandmother is in the hospital and I am scared.",
    "I moved to a new city and I don't know anyone.",
]
SUPPORTER = [
    "That sounds really frustrating. Failing does not make you stupid; what felt hardest this time?",
    "I'm sorry, a silence like that hurts. Do you want to tell me what the fight was about?",
    "Money worries can keep the mind racing at night. What is weighing on you the most right now?",
    "That is a lot to carry. It makes sense you need somewhere to let it out. What happened today?",
    "Of course you are scared, you love her. How is she doing, and how are you holding up?",
    "Starting over alone is hard. It is normal to feel lonely at first. What do you miss most?",
]
FOLLOW_UP = "Thank you, it helps to say it out loud."
CLOSING = "I'm glad you shared it with me. I'm here whenever you want to talk."


def dialogue_messages(i: int) -> list[dict[str, str]]:
    k = i % len(SEEKER)
    return [
        {"role": "user", "content": SEEKER[k]},
        {"role": "assistant", "content": SUPPORTER[k]},
        {"role": "user", "content": FOLLOW_UP},
        {"role": "assistant", "content": CLOSING},
    ]


def dialogue_row(i: int, messages: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "id": make_id("train-test", i),
        "seed_id": make_id("seed", i),
        "mode": "continue",
        "variant": 0,
        "prompt_version": "v1",
        "language": "en",
        "emotion": "sad",
        "strategies": ["comfort"],
        "messages": messages or dialogue_messages(i),
        "teacher": {"model": "test", "revision": None, "backend": "dryrun"},
        "sampling": None,
        "usage": None,
        "finish_reason": "stop",
        "scores": None,
        "created_at": None,
    }


def pair_row(i: int) -> dict[str, Any]:
    k = i % len(SEEKER)
    return {
        "id": make_id("pair", i),
        "dialogue_id": make_id("train-test", i),
        "prompt": [{"role": "user", "content": SEEKER[k]}],
        "chosen": SUPPORTER[k],
        "rejected": "Whatever. Just get over it, everyone has problems.",
        "emotion": "sad",
        "rejected_emotion": "neutral",
        "method": "cross_dialogue",
    }


def make_cfg(tmp_path: Path, student: Path, *overrides: str) -> RunConfig:
    base = [
        f"run.output_dir={tmp_path}",
        "run.name=t",
        f"train.student={student}",
        "train.precision=fp32",
        "train.zero_stage=2",
        "train.num_workers=2",
        "train.max_seq_len=128",
        "train.learning_rate=0.003",
        "train.lr_scheduler=constant",
        "train.max_steps=6",
        "train.save_every_steps=3",
        "train.student_name=tiny",
    ]
    return load_config(None, [*base, *overrides])


def write_curated(cfg: RunConfig, n: int = 24) -> list[dict[str, Any]]:
    rows = [dialogue_row(i) for i in range(n)]
    with ShardWriter(RunDir(cfg).curated, DIALOGUE, rows_per_shard=10) as w:
        w.write(rows)
    return rows


def write_prefs(cfg: RunConfig, n: int = 8) -> list[dict[str, Any]]:
    rows = [pair_row(i) for i in range(n)]
    with ShardWriter(RunDir(cfg).prefs, PREFERENCE_PAIR, rows_per_shard=100) as w:
        w.write(rows)
    return rows
