"""The eval stage's bookkeeping: missing systems, generation failures as rejects, resume per system, CLI and Ray
entrypoints.

The dryrun backend (deterministic filler text, no model) drives the orchestration; the reject path uses the real
transformers backend with a context too short for the prompts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from distill.atomic import atomic_write_json
from distill.cli import main
from distill.config import RunConfig, load_config
from distill.evaluate import run_evaluate
from distill.evaluate.systems import find_student_export, system_specs
from distill.run_dir import RunDir
from distill.shards import count_rows, iter_rows

REPO = Path(__file__).parent.parent.parent


def dryrun_overrides(tmp_path: Path, name: str = "orch") -> list[str]:
    return [
        f"run.name={name}", f"run.output_dir={tmp_path / 'runs'}", "seeds.holdout_fraction=0.3",
        "teacher.backend=dryrun", "eval.student_backend=dryrun", "eval.max_prompts=6", "eval.bertscore=false",
    ]  # fmt: skip


def dryrun_config(tmp_path: Path, *extra: str) -> RunConfig:
    return load_config(None, [*dryrun_overrides(tmp_path), *extra])


def test_missing_student_is_reported_not_fatal(tmp_path: Path) -> None:
    cfg = dryrun_config(tmp_path)
    stats = run_evaluate(cfg)
    ev = json.loads(RunDir(cfg).path("eval.json").read_text())
    assert ev["systems"]["student"]["status"] == "missing"
    assert "no distilled checkpoint" in ev["systems"]["student"]["note"]
    assert stats.counters["student/missing"] == 1
    for name in ("base", "teacher"):
        s = ev["systems"][name]
        assert s["status"] == "evaluated" and s["responses"] == 6
        # dryrun filler is no verdict: every reply is a counted failure, none is folded into Bad
        rating = s["judge"]["empathy_rating"]
        assert rating["failed"] == 6 and rating["bad"] == 0 and rating["failed_reasons"] == {"judge_unparseable": 6}
    assert "not evaluated" in RunDir(cfg).path("report.html").read_text()


def test_student_export_is_found_newest_first(tmp_path: Path) -> None:
    cfg = dryrun_config(tmp_path)
    run = RunDir(cfg)
    assert find_student_export(run) is None
    old, new, empty = (
        run.checkpoints / "s" / "step-10",
        run.checkpoints / "s" / "export",
        run.checkpoints / "s" / "no-weights",
    )
    for folder in (old, new, empty):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
    (old / "model.safetensors").write_bytes(b"x")
    (new / "model.safetensors").write_bytes(b"x")
    os.utime(old / "config.json", (1, 1))
    assert find_student_export(run) == new
    half_written = run.checkpoints / "s" / ".hf.tmp"  # an export interrupted before its rename
    half_written.mkdir()
    (half_written / "config.json").write_text("{}")
    (half_written / "model.safetensors").write_bytes(b"x")
    assert find_student_export(run) == new
    # the export the train stage names wins over modification times
    atomic_write_json(run.path("stats", "train.json"), {"stage": "train", "counters": {}, "info": {"export": str(old)}})
    assert find_student_export(run) == old
    spec = next(s for s in system_specs(cfg) if s.name == "student")
    assert spec.section is not None and spec.section.model == str(old) and spec.section.placement == "local"


def test_generation_failures_become_rejects(tmp_path: Path) -> None:
    # A 64-token context cannot hold the instruction + dialogue: the real backend fails each request, nothing crashes.
    cfg = dryrun_config(
        tmp_path,
        "eval.systems=[base]",
        "eval.student_backend=transformers",
        "teacher.max_model_len=64",
        "eval.judge=false",
    )
    stats = run_evaluate(cfg)
    run = RunDir(cfg)
    ev = json.loads(run.path("eval.json").read_text())
    base = ev["systems"]["base"]
    assert base["responses"] == 0 and base["rejected"] == {"generation_failed": 6}
    rejects = list(iter_rows(run.rejects("eval")))
    assert len(rejects) == 6 and all(
        r["reason"] == "generation_failed" and "prompt_too_long" in r["detail"] for r in rejects
    )
    assert stats.counters["base/rejected/generation_failed"] == 6
    assert ev["judge"] is None


def test_resume_reuses_finished_systems_and_never_duplicates(tmp_path: Path) -> None:
    cfg = dryrun_config(tmp_path, "eval.systems=[base,teacher]")
    run_evaluate(cfg)
    run = RunDir(cfg)
    base_done = run.path("eval", "responses", "base", "_system.json")
    stamp = base_done.stat().st_mtime_ns
    first = json.loads(run.path("eval.json").read_text())
    # A crash while the teacher was answering: its marker never got written and the stage never finished.
    run.path("eval", "responses", "teacher", "_system.json").unlink()
    marker = run.path("stages", "eval.json")
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "done": False}))
    run_evaluate(cfg)
    again = json.loads(run.path("eval.json").read_text())
    assert base_done.stat().st_mtime_ns == stamp  # reused, not regenerated
    assert count_rows(run.path("eval", "scored")) == 12
    for name in ("base", "teacher"):
        assert again["systems"][name]["scores"] == first["systems"][name]["scores"]  # same seeds, same responses


def test_cli_eval_and_report(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["eval", *dryrun_overrides(tmp_path), "eval.systems=[teacher]", "eval.report=false"]) == 0
    run_dir = tmp_path / "runs" / "orch"
    assert (run_dir / "eval.json").exists() and not (run_dir / "report.html").exists()
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "report.html").exists()
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "not a run folder" in capsys.readouterr().err
    # another config on the same folder is refused, and --new-run starts the stage over with nothing reused
    done_marker = run_dir / "eval" / "responses" / "teacher" / "_system.json"
    stamp = done_marker.stat().st_mtime_ns
    changed = [*dryrun_overrides(tmp_path), "eval.systems=[teacher]", "eval.report=false", "eval.sampling.max_tokens=9"]
    assert main(["eval", *changed]) == 2
    assert "different config" in capsys.readouterr().err
    assert main(["eval", "--new-run", *changed]) == 0
    assert json.loads((run_dir / "eval.json").read_text())["sampling"]["max_tokens"] == 9
    assert done_marker.stat().st_mtime_ns > stamp  # regenerated under the new config, not reused


def test_ray_job_entrypoint(tmp_path: Path) -> None:
    overrides = [*dryrun_overrides(tmp_path, "rayjob"), "eval.systems=[teacher]", "eval.judge=false"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "ray_jobs.eval", *overrides],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((tmp_path / "runs" / "rayjob" / "eval.json").read_text())["systems"]["teacher"]["responses"] == 6
    bad = subprocess.run(
        [sys.executable, "-m", "ray_jobs.eval", "eval.max_prompts=0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "eval.max_prompts" in bad.stderr
