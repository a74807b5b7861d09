"""`distill generate --export-requests / --import-results`: the stage round by round through an outside batch runner.

The test plays the runner: it answers each exported line with the session's embedded vLLM engine and writes the
batch output format, one output file per exported file, with one planted 500 that must come back in the next export.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from distill.cli import main
from distill.config import load_config
from distill.run_dir import RunDir
from distill.shards import iter_rows
from distill.stats import read_stats
from tests.support.batch_api_server import answer_line, error_line, request_of_line
from tests.support.seeds import write_seeds


def run_batch(engine, exported: Path, out: Path, planted_500: set[str]) -> None:
    lines = [json.loads(raw) for raw in exported.read_text().splitlines()]
    asked = [line for line in lines if line["custom_id"] not in planted_500]
    results = engine.generate([request_of_line(line) for line in asked]) if asked else []
    rows = [
        answer_line(line, r) if r.ok else error_line(line, 400, r.error or "failed") for line, r in zip(asked, results)
    ]
    rows += [error_line(line, 500, "planted") for line in lines if line["custom_id"] in planted_500]
    out.write_text("".join(json.dumps(row) + "\n" for row in rows))


def config_file(tmp_path: Path) -> Path:
    import yaml

    data = {
        "run": {"name": "files", "output_dir": str(tmp_path / "runs")},
        "teacher": {"backend": "openai_batch", "model": "smollm2", "batch_max_requests": 2},
        "generate": {
            "modes": ["selfchat"],
            "selfchat_turns": 2,
            "units_per_shard": 2,
            "truncated_turns": "trim",
            "sampling": {"temperature": 0.8, "top_p": 0.95, "max_tokens": 16},
        },
    }
    path = tmp_path / "files.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.slow
def test_export_and_import_advance_every_episode_round_by_round_to_the_planned_units(embedded_vllm_teacher, tmp_path):
    config = config_file(tmp_path)
    cfg = load_config(config)
    write_seeds(cfg, 3)  # 3 selfchat units, 2 rounds each
    run = RunDir(cfg)
    planted: set[str] = set()
    imported: list[Path] = []
    for rnd in range(4):  # 2 rounds, + 1 for the planted 500
        target = tmp_path / f"round{rnd}.jsonl"
        assert main(["generate", "--config", str(config), "--export-requests", str(target)]) == 0
        exported = sorted(tmp_path.glob(f"round{rnd}*.jsonl"))
        if not exported:
            break
        ids = [json.loads(raw)["custom_id"] for p in exported for raw in p.read_text().splitlines()]
        if rnd == 0:
            plan = sorted(r["id"] for r in iter_rows(run.plan))
            assert len(exported) == 2, "3 requests under batch_max_requests=2 are two files"
            assert sorted(ids) == sorted(f"{uid}/0" for uid in plan)
            planted = {ids[0]}
        if rnd == 1:
            assert planted <= set(ids), "the line that failed with a 500 is exported again"
        for i, path in enumerate(exported):
            out = tmp_path / f"out{rnd}-{i}.jsonl"
            run_batch(embedded_vllm_teacher, path, out, planted if rnd == 0 else set())
            assert main(["generate", "--config", str(config), "--import-results", str(out)]) == 0
            imported.append(out)
    assert run.stage_done("generate")
    plan = sorted(r["id"] for r in iter_rows(run.plan))
    ids = [r["id"] for r in iter_rows(run.generated)] + [r["id"] for r in iter_rows(run.rejects("generate"))]
    assert sorted(ids) == plan, "every planned unit exactly once"
    assert (
        main(["generate", "--config", str(config), "--import-results", str(imported[-1])]) == 0
    )  # again: nothing changes
    c = Counter(read_stats(run.root, "generate")["counters"])
    assert c["units"] == c["dialogues"] + c["rejected"] == 3 and c["batch_api/import_retry"] == 1
    assert (
        c["batch_api/import_lines"]
        == c["batch_api/import_answered"] + c["batch_api/import_failed"] + c["batch_api/import_retry"]
    )
    assert c["batch_api/import_answered"] + c["batch_api/import_failed"] == c["requests"]


def test_exporting_with_another_backend_is_one_line_and_exit_2(tmp_path, capsys):
    config = config_file(tmp_path)
    cfg = load_config(config, ["teacher.backend=dryrun"])
    write_seeds(cfg, 1)
    assert (
        main(
            [
                "generate",
                "--config",
                str(config),
                "teacher.backend=dryrun",
                "--export-requests",
                str(tmp_path / "x.jsonl"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "teacher.backend=openai_batch" in err[0]


def test_a_round_the_api_backend_already_submitted_is_never_exported(tmp_path, capsys):
    """A run started on `openai_batch`, then exported: the round sitting in a submitted batch must not be paid again."""
    from distill.teachers.openai_batch_journal import BatchJournal
    from distill.teachers.openai_batch_lines import line_digest

    config = config_file(tmp_path)
    cfg = load_config(config)
    write_seeds(cfg, 3)  # unit batches of 2 + 1 units
    assert main(["generate", "--config", str(config), "--export-requests", str(tmp_path / "r.jsonl")]) == 0
    lines = [line for p in sorted(tmp_path.glob("r-*.jsonl")) for line in p.read_bytes().splitlines(keepends=True)]
    first_batch = {
        json.loads(line)["custom_id"]: line_digest(line) for line in lines[:2]
    }  # unit batch 0's round 0, in plan order
    call = BatchJournal(Path(cfg.teacher.batch_dir)).open_call(first_batch)
    call.submissions.append(
        {
            "token": "t",
            "state": "submitted",
            "input_file_id": "file-x",
            "batch_id": "batch_x",
            "request_ids": list(first_batch),
        }
    )
    call.save()
    capsys.readouterr()
    assert main(["generate", "--config", str(config), "--export-requests", str(tmp_path / "s.jsonl")]) == 0
    exported = [json.loads(raw)["custom_id"] for raw in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert exported == [json.loads(lines[2])["custom_id"]]
    assert "2 requests are in batches `distill generate` submitted" in capsys.readouterr().err
