"""Report fixtures: a run folder holding every report input (the browser to open the page in is the suite-wide
`chromium` fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distill.atomic import atomic_write_json
from distill.emotions import polarity
from distill.evaluate.aggregate import summarize_system
from distill.records import DIALOGUE, make_id
from distill.shards import ShardWriter


def _dialogue(i: int, emotion: str, strategies: list[str]) -> dict[str, Any]:
    messages = [
        {"role": "user", "content": f"I have been feeling {emotion} since last week <b>not bold</b> #{i}."},
        {"role": "assistant", "content": "That sounds really hard. What happened?"},
        {"role": "user", "content": "My plans fell through and I keep thinking about it."},
        {"role": "assistant", "content": "It makes sense that it weighs on you. " * (1 + i % 4)},
    ]
    return {
        "id": make_id("report-test", i),
        "seed_id": make_id("seed", i),
        "mode": "continue",
        "variant": 0,
        "prompt_version": "v1",
        "language": "en",
        "emotion": emotion,
        "strategies": strategies,
        "messages": messages,
        "teacher": {"model": "embedded", "revision": None, "backend": "vllm"},
        "sampling": {"temperature": 0.8, "top_p": 0.95, "max_tokens": 64, "seed": i},
        "usage": {"prompt_tokens": 10, "completion_tokens": 20},
        "finish_reason": "stop",
        "scores": {"empathy": float(i % 7), "valence_shift": (i % 5) / 5 - 0.4},
        "created_at": None,
    }


def _eval_rows(system: str) -> list[dict[str, Any]]:
    ratings = {"base": ["bad", "okay", None], "student": ["good", "okay", "bad"], "teacher": ["good", "good", "okay"]}[
        system
    ]
    rows = []
    for i, (emotion, rating) in enumerate(zip(("sad", "joyful", "afraid"), ratings)):
        rows.append(
            {
                "id": make_id(system, i),
                "prompt_id": make_id("p", i),
                "system": system,
                "response": f"I hear you <script>x</script> {i}",
                "rating": rating,
                "emotion": emotion,
                "polarity": polarity(emotion),
                "scores": {"words": 5.0, "bertscore_f1": 0.5 + i / 10, "epitome_er": 1.0, "cehs_empathy": 1.0},
                "judge_failures": {} if rating else {"empathy_rating": "judge_unparseable"},
            }
        )
    return rows


@pytest.fixture
def populated_run(tmp_path: Path) -> Path:
    """A run folder with curated shards, curate and train stats and an eval.json, shaped as the stages write them."""
    root = tmp_path / "runs" / "report-test"
    emotions = ["sad", "joyful", "afraid", "lonely", "proud"]
    with ShardWriter(root / "curated", DIALOGUE, rows_per_shard=16) as out:
        out.write(_dialogue(i, emotions[i % len(emotions)], ["comfort", "questioning"][: 1 + i % 2]) for i in range(40))
    atomic_write_json(
        root / "stats" / "seeds.json",
        {"stage": "seeds", "counters": {"records_kept": 70, "for_generation": 60}, "info": {}},
    )
    atomic_write_json(
        root / "stats" / "curate.json",
        {
            "stage": "curate",
            "counters": {
                "dialogues_in": 60,
                "passed_filters": 50,
                "passed_thresholds": 48,
                "curated": 40,
                "dropped/min_turns/too_short": 10,
                "dropped/score_epitome_lexical/below_min_empathy": 2,
                "dropped/dedup/minhash": 8,
            },
            "info": {
                "empathy_scorer": {
                    "scorer": "epitome_classifier",
                    "model": "models/epitome",
                    "validation": {
                        "source": "validation.json beside the model",
                        "rows": 505,
                        "scoring": {"device": "cpu", "quantize": "bf16"},
                        "figures": {"emotional_reactions": {"accuracy": 0.81, "macro_f1": 0.77, "spearman": 0.64}},
                    },
                }
            },
        },
    )
    atomic_write_json(root / "stats" / "train.json", {"stage": "train", "counters": {}, "info": {
        "loss_curve": [{"step": s, "loss": 3.0 / (1 + s)} for s in range(1, 30)]}})  # fmt: skip
    systems = {
        name: {
            "status": "evaluated",
            "model": f"{name}-model",
            "backend": "transformers",
            "responses": 3,
            "rejected": {},
            "truncated": 0,
            **summarize_system(_eval_rows(name)),
        }
        for name in ("base", "student", "teacher")
    }
    examples = [
        {
            "prompt_id": "p1",
            "emotion": "sad",
            "context": [{"role": "user", "content": "My cat is ill & I'm scared <3"}],
            "reference": "That is frightening.",
            "responses": {n: {"response": f"{n} says <i>hi</i>", "rating": "good"} for n in systems},
        }
    ]
    atomic_write_json(root / "eval.json", {
        "version": 1, "run": "report-test", "prompts": 3, "holdout_seeds": 10, "rubric_version": "v1",
        "judge": {"backend": "transformers", "model": "judge-model", "rubric_version": "v1", "max_tokens": 64},
        "systems": systems, "examples": examples})  # fmt: skip
    return root
