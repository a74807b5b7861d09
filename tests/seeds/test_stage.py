"""The seeds stage: counts add up, shards load with datasets/pandas, strict mode fails with one line."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import datasets
import pandas as pd
import pytest

from distill.config import load_config
from distill.errors import InputError
from distill.records import REJECT, SCHEMA_VERSION, SEED
from distill.run_dir import RunDir
from distill.seeds.stage import load_seeds
from distill.shards import count_rows, iter_rows
from distill.stats import read_stats


def mixed_config(tmp_path: Path, seed_assets: Path, *extra: str):
    return load_config(
        None,
        [
            f"run.output_dir={tmp_path}",
            "run.name=t",
            f"seeds.sources=[{{path: {seed_assets / 'mixed_good_bad.jsonl'}}}, {{path: {seed_assets / 'ed_bad.csv'}}}, "
            f"{{path: {seed_assets / 'esconv_sample.json'}}}]",
            *extra,
        ],
    )


def test_in_equals_kept_plus_rejected_with_per_reason_counts(tmp_path: Path, seed_assets: Path) -> None:
    cfg = mixed_config(tmp_path, seed_assets, "seeds.holdout_fraction=0.3")
    stats = load_seeds(cfg)
    c = stats.counters
    run = RunDir(cfg)
    kept_on_disk = count_rows(run.seeds) + count_rows(run.holdout)
    rejected_on_disk = count_rows(run.rejects("seeds"))
    # 18 JSONL lines + 8 ED outcomes + 2 ESConv items
    assert c["records_in"] == 28
    assert c["records_in"] == c["records_kept"] + c["records_rejected"]
    assert (kept_on_disk, rejected_on_disk) == (c["records_kept"], c["records_rejected"])
    assert c["for_generation"] + c["holdout"] == c["records_kept"]
    by_reason = stats.by_prefix("rejected")
    assert sum(by_reason.values()) == c["records_rejected"]
    assert by_reason["duplicate_id"] == 1 and by_reason["truncated_file"] == 2 and by_reason["invalid_utf8"] == 2
    on_disk = read_stats(run.root, "seeds")
    assert on_disk["counters"]["records_rejected"] == c["records_rejected"]
    # every reject names where it came from
    for r in iter_rows(run.rejects("seeds")):
        assert r["reason"] and r["detail"] and r["source_file"] and r["source_row"]


def test_holdout_split_is_stratified_and_the_same_whatever_the_source_order(tmp_path: Path) -> None:
    both = ["{path: bundled, limit: 40}", "{path: bundled_qa, limit: 16}"]

    def held(name: str, sources: list[str]) -> list[dict]:
        cfg = load_config(
            None,
            [
                f"run.output_dir={tmp_path}",
                f"run.name={name}",
                f"seeds.sources=[{', '.join(sources)}]",
                "seeds.holdout_fraction=0.25",
            ],
        )
        load_seeds(cfg)
        return list(iter_rows(RunDir(cfg).holdout))

    first = held("a", both)
    assert sorted(s["id"] for s in first) == sorted(s["id"] for s in held("b", both[::-1]))
    # 56 seeds (24 emotions with 2, 8 with 1): 14 held out, one each from 14 of the emotions with the largest remainder.
    assert len(first) == 14 and max(Counter(s["emotion"] for s in first).values()) == 1


def test_shards_load_with_datasets_and_pandas(tmp_path: Path, seed_assets: Path) -> None:
    cfg = mixed_config(tmp_path, seed_assets, "seeds.holdout_fraction=0.0")
    load_seeds(cfg)
    run = RunDir(cfg)
    ds = datasets.load_dataset("parquet", data_files=str(run.seeds / "*.parquet"), split="train")
    assert ds.num_rows == count_rows(run.seeds)
    assert ds.features["messages"].feature["role"].dtype == "string"
    assert ds[0]["messages"][0]["role"] in ("user", "assistant")
    frame = pd.read_parquet(run.rejects("seeds"))
    assert list(frame.columns) == REJECT.names
    import pyarrow.parquet as pq

    shard = sorted(run.seeds.glob("part-*.parquet"))[0]
    assert pq.read_schema(shard).equals(SEED, check_metadata=False)
    assert pq.read_schema(shard).metadata[b"distill.schema_version"] == SCHEMA_VERSION.encode()


def test_strict_mode_fails_naming_the_first_faults(tmp_path: Path, seed_assets: Path) -> None:
    cfg = mixed_config(tmp_path, seed_assets, "seeds.strict=true")
    with pytest.raises(InputError) as info:
        load_seeds(cfg)
    message = str(info.value)
    assert "malformed seed record(s) in strict mode" in message
    assert "mixed_good_bad.jsonl:2 messages: missing_field" in message
    assert "\n" not in message
    assert not RunDir(cfg).stage_done("seeds")


def test_rerun_is_idempotent_and_changed_config_is_refused(tmp_path: Path, seed_assets: Path) -> None:
    from distill.errors import RunStateError

    cfg = mixed_config(tmp_path, seed_assets)
    load_seeds(cfg)
    before = sorted(p.name for p in RunDir(cfg).seeds.iterdir())
    load_seeds(cfg)
    assert sorted(p.name for p in RunDir(cfg).seeds.iterdir()) == before
    changed = mixed_config(tmp_path, seed_assets, "seeds.max_turns=3")
    with pytest.raises(RunStateError, match="different config"):
        load_seeds(changed)


def test_cli_inspect_prints_counts_and_strict_exits_nonzero(seed_assets: Path) -> None:
    path = seed_assets / "mixed_good_bad.jsonl"
    ok = subprocess.run(
        [sys.executable, "-m", "distill.cli", "seeds", "inspect", str(path)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "18 records in" in ok.stdout and "6 kept" in ok.stdout and "12 rejected" in ok.stdout
    assert "unknown_emotion" in ok.stdout and "duplicate_id" in ok.stdout
    strict = subprocess.run(
        [sys.executable, "-m", "distill.cli", "seeds", "inspect", str(path), "--strict"], capture_output=True, text=True
    )
    assert strict.returncode == 2
    assert strict.stderr.startswith("error: 12 malformed seed record(s)") and "Traceback" not in strict.stderr
    assert len(strict.stderr.strip().splitlines()) == 1


def test_cli_inspect_of_a_config(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "distill.cli", "seeds", "inspect", "demo"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "0 rejected" in out.stdout and "emotion" in out.stdout


@pytest.mark.parametrize(("name", "records"), [("bundled", "records in"), ("bundled_qa", "32 records in")])
def test_cli_inspects_every_bundled_set_by_name(name: str, records: str, capsys: pytest.CaptureFixture[str]) -> None:
    from distill.cli import main

    assert main(["seeds", "inspect", name]) == 0
    out = capsys.readouterr().out
    assert records in out and "0 rejected" in out


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "distill.cli", "seeds", "inspect", str(tmp_path / "nope.jsonl")],
        capture_output=True,
        text=True,
    )
    # a path that does not exist is taken as a config name
    assert out.returncode == 2 and "not found" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(("limit", "fraction", "held"), [(3, 0.001, 1), (1, 0.001, 0), (3, 0.0, 0)])
def test_a_small_run_still_holds_one_seed_out(tmp_path: Path, limit: int, fraction: float, held: int) -> None:
    cfg = load_config(
        None,
        [
            f"run.output_dir={tmp_path}",
            "run.name=t",
            f"seeds.sources=[{{path: bundled, limit: {limit}}}]",
            f"seeds.holdout_fraction={fraction}",
        ],
    )
    stats = load_seeds(cfg)
    run = RunDir(cfg)
    assert count_rows(run.holdout) == stats.counters.get("holdout", 0) == held
    assert count_rows(run.seeds) == stats.counters["for_generation"] == limit - held
    if held:  # the one nearest the cut: the smallest id
        ids = [r["id"] for r in iter_rows(run.seeds)] + [r["id"] for r in iter_rows(run.holdout)]
        assert [r["id"] for r in iter_rows(run.holdout)] == [min(ids)]
