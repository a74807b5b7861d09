"""End to end on CPU with the embedded SmolLM2-135M: bundled seeds -> held-out prompts -> base, distilled student and
teacher through the transformers backend -> the same model as judge -> BERTScore with MiniLM -> eval.json + report.html.

The 135M judge rarely writes a valid verdict: that is the point here too, its unreadable replies must be counted as
reasoned failures while every other number is still produced.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from distill.config import load_config
from distill.embedded import embedded_model_dir
from distill.emotions import EMOTIONS
from distill.evaluate import run_evaluate
from distill.evaluate.judge import RUBRICS
from distill.evaluate.records import EVAL_RESPONSE
from distill.run_dir import RunDir
from distill.shards import count_rows, read_table

pytestmark = pytest.mark.slow

PROMPTS = 4


def place_student_checkpoint(run: RunDir) -> Path:
    """A 'distilled' checkpoint as train/ exports it: an HF folder under checkpoints/ (the embedded weights,
    symlinked)."""
    export = run.checkpoints / "SmolLM2-135M-Instruct" / "export"
    export.mkdir(parents=True)
    for item in embedded_model_dir().iterdir():
        if not item.name.startswith("."):
            os.symlink(item, export / item.name)
    return export


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunDir, object]:
    import torch

    out = tmp_path_factory.mktemp("e2e")
    cfg = load_config(None, [
        "run.name=eval-e2e", f"run.output_dir={out}", "seeds.holdout_fraction=0.3",
        "teacher.backend=transformers", "teacher.model=embedded", "teacher.batch_size=16",
        f"eval.max_prompts={PROMPTS}", "eval.student_backend=transformers",
        "eval.sampling.max_tokens=16", "eval.judge_max_tokens=16", "eval.examples=3",
    ])  # fmt: skip
    run = RunDir(cfg)
    student = place_student_checkpoint(run)
    threads = torch.get_num_threads()
    # One thread: on a shared 2-core machine a second OpenMP thread spins against other processes (7x slower here).
    torch.set_num_threads(1)
    try:
        stats = run_evaluate(cfg)
    finally:
        torch.set_num_threads(threads)
    return run, (cfg, stats, student)


def test_eval_json_has_every_metric_and_counts_add_up(evaluated) -> None:  # type: ignore[no-untyped-def]
    run, (cfg, stats, student) = evaluated
    ev = json.loads(run.path("eval.json").read_text())
    assert ev["prompts"] == PROMPTS
    assert set(ev["systems"]) == {"base", "student", "teacher"}
    assert ev["systems"]["student"]["model"] == str(student)
    assert ev["judge"]["backend"] == "transformers" and ev["judge"]["rubric_version"] == "v1"
    c = stats.counters
    for name, s in ev["systems"].items():
        assert s["status"] == "evaluated"
        # every prompt ends as a response or a reject, for every system
        assert s["responses"] + sum(s["rejected"].values()) == PROMPTS
        assert s["responses"] > 0
        rating = s["judge"]["empathy_rating"]
        assert rating["good"] + rating["okay"] + rating["bad"] + rating["failed"] == s["responses"]
        assert sum(rating["failed_reasons"].values()) == rating["failed"]
        assert set(s["per_emotion"]) <= set(EMOTIONS) | {"unlabeled"}
        assert sum(g["n"] for g in s["per_emotion"].values()) == s["responses"]
        assert sum(g["n"] for g in s["per_polarity"].values()) == s["responses"]
        scores = s["scores"]
        for key in (
            "words",
            "vader_compound",
            "vader_shift",
            "epitome_er",
            "epitome_ip",
            "epitome_ex",
            "bertscore_f1",
            "diff_epitome_er",
        ):
            assert scores[key] is not None, key
        assert -1.0 <= scores["vader_compound"] <= 1.0
        assert -1.0 <= scores["bertscore_f1"] <= 1.0
        assert 0 < s["diversity"]["distinct_1"] <= 1 and 0 < s["diversity"]["unique_openings"] <= 1
    # judge verdicts: each rubric, each response, either read or a counted failure
    responses = sum(s["responses"] for s in ev["systems"].values())
    for rubric in RUBRICS:
        judged = c.get(f"judge/{rubric}/ok", 0) + sum(stats.by_prefix(f"judge/{rubric}/failed").values())
        assert judged == responses
    assert len(ev["examples"]) == 3 and all(
        set(e["responses"]) == {"base", "student", "teacher"} for e in ev["examples"]
    )


def test_scored_rows_and_rejects_on_disk(evaluated) -> None:  # type: ignore[no-untyped-def]
    run, (cfg, stats, _) = evaluated
    table = read_table(run.path("eval", "scored"))
    assert table is not None and table.schema.equals(EVAL_RESPONSE, check_metadata=False)
    ev = json.loads(run.path("eval.json").read_text())
    assert table.num_rows == sum(s["responses"] for s in ev["systems"].values())
    assert count_rows(run.rejects("eval")) == sum(sum(s["rejected"].values()) for s in ev["systems"].values())
    assert len(set(table.column("id").to_pylist())) == table.num_rows
    assert run.stage_done("eval") and (run.path("stats", "eval.json")).exists()


def test_rerun_is_a_no_op(evaluated) -> None:  # type: ignore[no-untyped-def]
    run, (cfg, _, _) = evaluated
    before = run.path("eval.json").stat().st_mtime_ns
    run_evaluate(cfg)
    assert run.path("eval.json").stat().st_mtime_ns == before


def test_report_renders(evaluated, chromium) -> None:  # type: ignore[no-untyped-def]
    run, _ = evaluated
    report = run.path("report.html")
    html = report.read_text()
    assert "Good / Okay / Bad per emotion" in html or "judge" in html
    page = chromium.load(report.resolve().as_uri())
    assert page.console_errors == []
    assert page.facts["broken"] == 0 and page.facts["images"] >= 3
    assert page.screenshot_png[:8] == b"\x89PNG\r\n\x1a\n"
    run.path("report.png").write_bytes(page.screenshot_png)  # beside the report, for a look when it fails
