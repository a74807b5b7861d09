"""ShardWriter: rotation, atomic completion, readers skip incomplete shards and detect corrupt ones."""

from __future__ import annotations

import datasets
import pandas as pd
import pyarrow.parquet as pq
import pytest

from distill.records import REJECT, make_reject
from distill.shards import CorruptShardError, ShardWriter, count_rows, iter_batches, iter_rows, list_shards, read_table


def rows(n: int, start: int = 0) -> list[dict]:
    return [
        make_reject("test", "reason_a", f"row {i}", record_id=f"r{i}", source_row=i) for i in range(start, start + n)
    ]


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_rotation_by_rows_and_round_trip(tmp_path, fmt) -> None:
    with ShardWriter(tmp_path, REJECT, rows_per_shard=4, row_group_rows=3, format=fmt) as writer:
        writer.write(rows(10))
    infos = list_shards(tmp_path)
    assert [i.rows for i in infos] == [4, 4, 2]
    assert [r["id"] for r in iter_rows(tmp_path)] == [f"r{i}" for i in range(10)]
    assert not list(tmp_path.glob(".*.tmp"))


def test_write_table_respects_rotation(tmp_path) -> None:
    import pyarrow as pa

    table = pa.Table.from_pylist(rows(7), schema=REJECT)
    with ShardWriter(tmp_path, REJECT, rows_per_shard=3) as writer:
        writer.write(rows(2))
        writer.write_table(table)
    assert [i.rows for i in list_shards(tmp_path)] == [3, 3, 3]
    assert count_rows(tmp_path) == 9


def test_shards_load_with_datasets_and_pandas_with_the_declared_schema(tmp_path) -> None:
    with ShardWriter(tmp_path, REJECT, rows_per_shard=5) as writer:
        writer.write(rows(12))
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / "*.parquet"), split="train")
    assert ds.num_rows == 12 and ds.column_names == REJECT.names
    frame = pd.read_parquet(tmp_path / "part-00000.parquet")
    assert list(frame.columns) == REJECT.names and len(frame) == 5
    assert pq.read_schema(tmp_path / "part-00001.parquet").equals(REJECT, check_metadata=False)


def test_an_exception_leaves_no_partial_shard(tmp_path) -> None:
    with pytest.raises(RuntimeError):
        with ShardWriter(tmp_path, REJECT, rows_per_shard=4) as writer:
            writer.write(rows(6))  # one complete shard, two rows in progress
            raise RuntimeError("crash")
    assert count_rows(tmp_path) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_done", "part-00000.parquet"]


def test_reader_skips_a_shard_without_marker(tmp_path, caplog) -> None:
    with ShardWriter(tmp_path, REJECT, rows_per_shard=3) as writer:
        writer.write(rows(6))
    (tmp_path / "_done" / "part-00001.parquet.json").unlink()  # as if the process died before the marker
    assert [r["id"] for r in iter_rows(tmp_path)] == ["r0", "r1", "r2"]
    assert "incomplete shard" in caplog.text


def test_truncated_shard_is_detected(tmp_path) -> None:
    with ShardWriter(tmp_path, REJECT, rows_per_shard=100) as writer:
        writer.write(rows(50))
    shard = tmp_path / "part-00000.parquet"
    shard.write_bytes(shard.read_bytes()[:-100])
    with pytest.raises(CorruptShardError, match="truncated"):
        list(iter_batches(tmp_path))


def test_flipped_bytes_are_detected(tmp_path) -> None:
    with ShardWriter(tmp_path, REJECT, rows_per_shard=100, compression="none") as writer:
        writer.write(rows(50))
    shard = tmp_path / "part-00000.parquet"
    data = bytearray(shard.read_bytes())
    i = data.index(b"row 25")
    data[i : i + 6] = b"XXX 99"
    shard.write_bytes(bytes(data))
    with pytest.raises(CorruptShardError):
        list(iter_batches(tmp_path, verify_digest=True))
    with pytest.raises(CorruptShardError):  # page checksums catch it even without the digest pass
        list(iter_batches(tmp_path))


def test_rows_that_do_not_fit_the_schema_name_it(tmp_path) -> None:
    with pytest.raises(ValueError, match="reject schema"):
        with ShardWriter(tmp_path, REJECT) as writer:
            writer.write([{"stage": "x", "reason": "y", "source_row": "NaN-string"}])
            writer.close()


def test_read_table_of_empty_folder(tmp_path) -> None:
    assert read_table(tmp_path / "missing") is None
