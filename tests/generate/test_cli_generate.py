"""`distill generate` through the real CLI on the dryrun teacher: exit codes, resume, one-line refusal of a changed
config."""

from __future__ import annotations

import yaml

from distill.cli import main
from distill.config import load_config
from distill.run_dir import RunDir
from distill.shards import count_rows
from tests.support.seeds import write_seeds


def test_cli_generates_resumes_and_refuses_a_changed_config(tmp_path, capsys):
    config = tmp_path / "gen.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "run": {"name": "cli", "output_dir": str(tmp_path / "runs")},
                "teacher": {"backend": "dryrun", "placement": "local"},
                "generate": {"modes": ["continue", "selfchat"], "variants_per_seed": 2},
            }
        )
    )
    cfg = load_config(config)
    write_seeds(cfg, 3)
    assert main(["generate", "--config", str(config)]) == 0
    out = capsys.readouterr()
    assert "generate: 12 units -> 12 dialogues" in out.out and "generated" in out.out
    assert (RunDir(cfg).root / "logs" / "generate.log").is_file()  # whatever the engines printed is kept there
    assert count_rows(RunDir(cfg).generated) == 12
    assert main(["generate", "--config", str(config)]) == 0  # already done: nothing rewritten
    assert count_rows(RunDir(cfg).generated) == 12
    capsys.readouterr()
    assert main(["generate", "--config", str(config), "generate.variants_per_seed=3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "different config" in err[0] and "--new-run" in err[0]


def test_a_reject_surge_is_told_once_on_the_console(tmp_path, capsys):
    # The dryrun teacher's filler is never JSON, so with style whole every unit is an unparseable_output reject.
    config = tmp_path / "surge.yaml"
    config.write_text(yaml.safe_dump({
        "run": {"name": "surge", "output_dir": str(tmp_path / "runs")},
        "teacher": {"backend": "dryrun", "placement": "local"},
        "generate": {"modes": ["continue", "selfchat"], "variants_per_seed": 4, "style": "whole", "units_per_shard": 4},
    }))  # fmt: skip
    write_seeds(load_config(config), 3)
    assert main(["generate", "--config", str(config)]) == 0
    out = capsys.readouterr().out.splitlines()
    surge = [line for line in out if "more than half of the units are rejected" in line]
    assert len(surge) == 1 and surge[0].startswith("warning: generate:") and "unparseable_output" in surge[0], out
    assert any(line.startswith("generate: 24 units -> 0 dialogues") for line in out), out
