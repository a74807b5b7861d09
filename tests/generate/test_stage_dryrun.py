"""The generate stage end to end with the dryrun teacher in this process: accounting, record shape, resume, refusal."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from distill.errors import RunStateError
from distill.generate import run_generate
from distill.progress import reporting
from distill.records import DIALOGUE, MODES
from distill.run_dir import RunDir
from distill.shards import iter_rows, read_table
from distill.stages import GENERATE
from tests.support.seeds import write_seeds

DRYRUN = [
    "teacher.backend=dryrun",
    "teacher.placement=local",
    "generate.modes=[rewrite,continue,selfchat]",
    "generate.variants_per_seed=2",
]


def planned_ids(run: RunDir) -> list[str]:
    return [r["id"] for r in iter_rows(run.plan)]


def test_every_planned_unit_is_written_once_and_counts_add_up(make_cfg):
    cfg = make_cfg(
        *DRYRUN,
        "generate.units_per_shard=3",
        "generate.selfchat_turns=4",
        "generate.continue_turns=2",
        "generate.rewrite_turns=4",
    )
    write_seeds(cfg, 6)
    seen = []
    with reporting(lambda update: seen.append((update.done, update.total))):
        stats = run_generate(cfg)
    run = RunDir(cfg)
    plan = planned_ids(run)
    ids = [r["id"] for r in iter_rows(run.generated)]
    assert len(plan) == 2 * (3 + 2 + 2) * 2 == 28  # 2 seeds of each kind x modes they suit x 2 variants
    assert sorted(ids) == sorted(plan) and len(set(ids)) == len(ids)
    c = stats.counters
    assert c["units_planned"] == c["dialogues"] + c["rejected"] == 28
    assert sum(c[f"dialogues/{m}"] for m in MODES) == c["dialogues"]
    assert seen[-1] == (28, 28) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    on_disk = json.loads((run.root / "stats" / "generate.json").read_text())
    assert on_disk["counters"]["dialogues"] == 28
    assert on_disk["info"]["teacher"]["backend"] == "dryrun" and "warning" in on_disk["info"]
    assert run.stage_done(GENERATE.name)


def test_dialogue_rows_fill_every_field(make_cfg):
    cfg = make_cfg(*DRYRUN, "generate.selfchat_turns=4", "generate.continue_turns=2", "generate.rewrite_turns=4")
    seeds = {s["id"]: s for s in write_seeds(cfg, 3)}
    run_generate(cfg)
    table = read_table(RunDir(cfg).generated)
    assert table.schema.equals(DIALOGUE, check_metadata=False)
    for row in table.to_pylist():
        nulls = [k for k, v in row.items() if v is None and k != "teacher"]
        assert not nulls, nulls
        assert row["scores"] == [] and row["teacher"]["backend"] == "dryrun" and row["prompt_version"] == "v1"
        roles = [m["role"] for m in row["messages"]]
        assert roles[-1] == "assistant" and all(a != b for a, b in zip(roles, roles[1:])), roles
        seed = seeds[row["seed_id"]]
        assert (row["source"], row["license"]) == (seed["source"], seed["license"])  # lineage travels with the dialogue
        seed_turns = [m for m in seed["messages"] if m["role"] != "system"]
        if row["mode"] == "continue":
            assert row["messages"][: len(seed_turns)] == seed_turns and len(row["messages"]) >= len(seed_turns) + 2
        elif row["mode"] == "rewrite":
            assert row["messages"][0] == seed_turns[0] and len(row["messages"]) == 4
        else:
            assert len(row["messages"]) == 4
        assert (
            row["usage"]["completion_tokens"] > 0 and row["sampling"]["seed"] >= 0 and row["emotion"] == seed["emotion"]
        )


def test_rerun_skips_everything_and_a_changed_config_is_refused(make_cfg):
    cfg = make_cfg(*DRYRUN)
    write_seeds(cfg, 3)
    run_generate(cfg)
    run = RunDir(cfg)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in run.generated.glob("*.parquet"))
    again = run_generate(cfg)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in run.generated.glob("*.parquet")) == before
    assert again.counters["dialogues"] == 14
    changed = make_cfg(*DRYRUN, "generate.variants_per_seed=3")
    with pytest.raises(RunStateError, match="different config"):
        run_generate(changed)
    # --new-run discards the stage's outputs and starts over under the new config
    assert run_generate(changed, new_run=True).counters["dialogues"] == 21


def test_a_batch_without_its_marker_is_redone_without_duplicates(make_cfg):
    cfg = make_cfg(*DRYRUN, "generate.units_per_shard=4")
    write_seeds(cfg, 3)
    run_generate(cfg)
    run = RunDir(cfg)
    first = sorted(r["id"] for r in iter_rows(run.generated))
    # What a kill between "shard renamed" and "marker written" leaves: the shard is there, its batch marker is not.
    (run.generated / "_done" / "units-000001.done").unlink()
    stage = json.loads((run.root / "stages" / "generate.json").read_text())
    (run.root / "stages" / "generate.json").write_text(json.dumps({**stage, "done": False}))
    stats = run_generate(cfg)
    again = [r["id"] for r in iter_rows(run.generated)]
    assert sorted(again) == first and len(set(again)) == len(again)
    assert stats.info["this_invocation"]["units"] == 4
    assert Counter(p.name.split("-")[1] for p in run.generated.glob("units-*.parquet"))["000001"] == 1


def test_seeds_that_suit_no_mode_are_rejected_and_an_empty_plan_is_an_input_error(make_cfg):
    from distill.errors import InputError

    cfg = make_cfg(*DRYRUN[:2], "generate.modes=[rewrite]")
    rows = write_seeds(
        cfg, 3
    )  # a single-turn Q&A seed (rewrite suits it), a multi-turn one and a one-line one (it does not)
    stats = run_generate(cfg)
    assert stats.counters["units_planned"] == 1 and stats.counters["rejected/no_applicable_mode"] == 2
    assert {r["id"] for r in iter_rows(RunDir(cfg).rejects(GENERATE.name))} == {r["id"] for r in rows[1:]}

    none_fit = make_cfg(*DRYRUN[:2], "generate.modes=[rewrite]", "run.name=none")
    write_seeds(none_fit, 2, skip=1)  # the multi-turn and the one-line seed only
    with pytest.raises(InputError, match="no seed suits the modes"):
        run_generate(none_fit)
