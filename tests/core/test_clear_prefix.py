"""clear_prefix: a retried writer starts from nothing under its prefix, and nothing of another writer is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from distill.records import REJECT, make_reject
from distill.shards import DONE_DIR, ShardWriter, clear_prefix, count_rows, list_shards


def write(folder: Path, prefix: str, n: int) -> None:
    rows = [make_reject("test", "reason_a", f"row {i}", record_id=f"{prefix}{i}", source_row=i) for i in range(n)]
    with ShardWriter(folder, REJECT, prefix=prefix, rows_per_shard=2) as writer:
        writer.write(rows)


def test_removes_shards_markers_and_crash_leftovers_of_one_prefix_only(tmp_path: Path) -> None:
    write(tmp_path, "units-000001", 3)
    write(tmp_path, "units-000002", 2)
    (tmp_path / ".units-000001-00002.parquet.tmp").write_bytes(b"half a shard")  # a writer killed mid-shard
    (tmp_path / DONE_DIR / ".units-000001-00002.parquet.json.x1y2.tmp").write_text("{")  # killed mid-marker
    (tmp_path / DONE_DIR / "units-000001.done").write_text("{}")  # a batch marker is not the writer's to clear

    assert clear_prefix(tmp_path, "units-000001") == 6  # 2 shards + 2 markers + 2 temp files

    assert [i.path.name for i in list_shards(tmp_path)] == ["units-000002-00000.parquet"]
    assert count_rows(tmp_path) == 2
    assert not [p for p in tmp_path.rglob("*units-000001-*")]
    assert (tmp_path / DONE_DIR / "units-000001.done").exists()


def test_a_rewrite_after_clearing_holds_only_the_new_rows(tmp_path: Path) -> None:
    write(tmp_path, "part", 5)
    clear_prefix(tmp_path, "part")
    write(tmp_path, "part", 1)
    assert count_rows(tmp_path) == 1


@pytest.mark.parametrize("make", [lambda p: None, lambda p: p.mkdir()])
def test_a_missing_or_empty_folder_is_nothing_to_clear(tmp_path: Path, make) -> None:
    folder = tmp_path / "rejects"
    make(folder)
    assert clear_prefix(folder, "plan") == 0
