from __future__ import annotations

import pyarrow as pa
import pytest

from distill.emotions import EMOTIONS, NEGATIVE, OPPOSITE, POSITIVE, normalize_emotion, polarity
from distill.records import DIALOGUE, MESSAGES, SCHEMA_VERSION, SCHEMAS, make_id, make_reject, to_table


def test_32_emotions_each_with_an_opposite_of_the_other_polarity() -> None:
    assert len(EMOTIONS) == 32 == len(set(EMOTIONS))
    assert set(OPPOSITE) == set(EMOTIONS) and POSITIVE | NEGATIVE == set(EMOTIONS)
    for emotion, opposite in OPPOSITE.items():
        assert OPPOSITE[opposite] == emotion
        assert polarity(emotion) != polarity(opposite)


def test_emotion_aliases() -> None:
    assert normalize_emotion(" Anxiety ") == "anxious"
    assert normalize_emotion("TERRIFIED") == "terrified"
    assert normalize_emotion("hangry") is None


def test_every_schema_is_versioned_and_uses_openai_messages() -> None:
    for kind, schema in SCHEMAS.items():
        assert schema.metadata[b"distill.kind"] == kind.encode()
        assert schema.metadata[b"distill.schema_version"] == SCHEMA_VERSION.encode()
        assert schema.field("id").type == pa.string()
    assert DIALOGUE.field("messages").type == MESSAGES


def test_ids_are_deterministic_and_distinct() -> None:
    assert make_id("seed", "ed", "hit:1") == make_id("seed", "ed", "hit:1")
    assert make_id("seed", "ed", "hit:1") != make_id("seed", "ed", "hit:2")
    assert make_id("a", "bc") != make_id("ab", "c")  # parts are separated, not concatenated
    assert len(make_id("x")) == 16


def test_to_table_names_the_bad_field() -> None:
    reject = make_reject("seeds", "bad", "detail", record={"id": "r1", "x": 1})
    table = to_table([reject], SCHEMAS["reject"])
    assert table.column("id").to_pylist() == ["r1"]
    with pytest.raises(ValueError, match="reject schema"):
        to_table([{**reject, "source_row": "not a number"}], SCHEMAS["reject"])
