"""Every seed format loads; every malformed record becomes a reject naming file, row, field and reason."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from distill.config import SeedSource
from distill.emotions import EMOTIONS
from distill.seeds.reader import bundled_seeds_path, detect_format, iter_source
from distill.seeds.rows import Limits
from distill.seeds.soulchat import parse_transcript


def outcomes(path: Path, **kw):
    return list(iter_source(SeedSource(path=str(path), **kw), Limits()))


def seeds_of(path: Path, **kw):
    return [o.seed for o in outcomes(path, **kw) if o.seed is not None]


@pytest.mark.parametrize(
    ("name", "fmt", "count"),
    [
        ("ed_sample.csv", "empathetic_dialogues", 3),
        ("esconv_sample.json", "esconv", 2),
        ("psyqa_sample.json", "psyqa", 2),
        ("soulchat_multiturn.jsonl", "soulchat", 2),
        ("chat_messages.jsonl", "chat", 2),
        ("chat_sharegpt.jsonl", "chat", 2),
        ("chat_messages.parquet", "chat", 2),
    ],
)
def test_every_format_loads_without_rejects(seed_assets: Path, name: str, fmt: str, count: int) -> None:
    path = seed_assets / name
    assert detect_format(path) == fmt
    results = outcomes(path)
    assert [o.reject for o in results if o.reject] == []
    seeds = [o.seed for o in results]
    assert len(seeds) == count
    for seed in seeds:
        roles = [m["role"] for m in seed["messages"] if m["role"] != "system"]
        assert all(a != b for a, b in zip(roles, roles[1:])), roles
        assert seed["source"] == fmt
        assert len(seed["id"]) == 16
        assert seed["emotion"] is None or seed["emotion"] in EMOTIONS
        json.loads(seed["metadata"])


def test_empathetic_dialogues_groups_rows_and_maps_speakers(seed_assets: Path) -> None:
    results = outcomes(seed_assets / "ed_sample.csv")
    lonely = results[0].seed
    assert results[0].rows == 4
    assert lonely["emotion"] == "lonely"
    assert [m["role"] for m in lonely["messages"]] == ["user", "assistant", "user", "assistant"]
    assert lonely["situation"].startswith("I moved to a new city and, after a month,")  # _comma_ unescaped
    assert "I cook, eat" in lonely["messages"][2]["content"]


def test_esconv_merges_split_supporter_turns_and_keeps_strategies(seed_assets: Path) -> None:
    first, second = seeds_of(seed_assets / "esconv_sample.json")
    assert first["emotion"] == "anxious"  # ESConv's "anxiety" folded onto the ED label
    assert [m["role"] for m in first["messages"]] == ["assistant", "user", "assistant", "user", "assistant"]
    assert first["messages"][2]["content"] == "That sounds stressful. Have you been able to apply anywhere yet?"
    meta = json.loads(first["metadata"])
    assert meta["strategies"][1] == ["Reflection of feelings", "Question"]
    assert meta["source_emotion"] == "anxiety" and meta["problem_type"] == "job crisis"
    assert json.loads(second["metadata"])["merged_utterances"] == 1


def test_psyqa_is_post_plus_first_answer(seed_assets: Path) -> None:
    first, second = seeds_of(seed_assets / "psyqa_sample.json")
    assert first["language"] == "zh"
    assert first["messages"][0]["content"].startswith("工作压力很大") and "加班" in first["messages"][0]["content"]
    assert first["messages"][1]["role"] == "assistant"
    assert second["messages"][0]["content"] == "和父母沟通总是吵架，我该怎么办？"  # empty description is not appended


def test_soulchat_transcript_with_target() -> None:
    turns = parse_transcript("用户：你好\n我很难过\n心理咨询师：我在听。\n用户：谢谢")
    assert turns == [
        {"role": "user", "content": "你好\n我很难过"},
        {"role": "assistant", "content": "我在听。"},
        {"role": "user", "content": "谢谢"},
    ]


def test_soulchat_fixture_fills_the_open_counsellor_turn(seed_assets: Path) -> None:
    first, _ = seeds_of(seed_assets / "soulchat_multiturn.jsonl")
    assert first["messages"][-1]["content"].startswith("熬夜会让焦虑更明显")
    assert first["situation"] == "学业压力"


def test_ids_are_deterministic_and_source_scoped(seed_assets: Path) -> None:
    a = [s["id"] for s in seeds_of(seed_assets / "chat_messages.jsonl")]
    b = [s["id"] for s in seeds_of(seed_assets / "chat_messages.jsonl")]
    c = [s["id"] for s in seeds_of(seed_assets / "chat_messages.jsonl", name="other")]
    assert a == b and set(a).isdisjoint(c)
    # The JSONL and the Parquet copy carry the same record ids, so they get the same seed ids.
    assert a == [s["id"] for s in seeds_of(seed_assets / "chat_messages.parquet")]


EXPECTED_MIXED_REJECTS = {
    2: ("missing_field", "messages"),
    4: ("empty_turn", "messages[0].content"),
    5: ("unknown_role", "messages[0].role"),
    6: ("roles_not_alternating", "messages[1].role"),
    8: ("absurd_length", "messages[0].content"),
    9: ("wrong_type", "messages"),
    10: ("unknown_emotion", "emotion"),
    13: ("wrong_type", "messages[0].content"),
    14: ("invalid_json", None),
    17: ("invalid_utf8", None),
    18: ("truncated_file", None),
}


def test_mixed_fixture_rejects_each_fault_with_file_row_and_field(seed_assets: Path) -> None:
    path = seed_assets / "mixed_good_bad.jsonl"
    results = outcomes(path)
    rejects = {r.reject["source_row"]: r.reject for r in results if r.reject}
    assert {row: (r["reason"], r["field"]) for row, r in rejects.items()} == EXPECTED_MIXED_REJECTS
    assert all(r["source_file"] == str(path) and r["stage"] == "seeds" and r["detail"] for r in rejects.values())
    good = [r.seed for r in results if r.seed]
    assert len(good) == 18 - len(EXPECTED_MIXED_REJECTS)
    assert Counter(s["emotion"] for s in good)["grateful"] == 1  # "Grateful" normalized


def test_ed_faults_are_rejected_per_conversation(seed_assets: Path) -> None:
    results = outcomes(seed_assets / "ed_bad.csv")
    reasons = Counter(r.reject["reason"] for r in results if r.reject)
    assert reasons == Counter(
        {
            "wrong_field_count": 1,
            "missing_turns": 1,
            "roles_not_alternating": 1,
            "unknown_emotion": 1,
            "invalid_utf8": 1,
            "truncated_file": 1,
        }
    )
    assert sorted(s.seed["emotion"] for s in results if s.seed) == ["content", "sad"]
    # Rows are accounted for: the header is the only line of the file not in some outcome.
    lines = (seed_assets / "ed_bad.csv").read_bytes().count(b"\n") + 1
    assert sum(o.rows for o in results) == lines - 1


def test_truncated_json_array_keeps_the_items_before_the_cut(seed_assets: Path) -> None:
    results = outcomes(seed_assets / "esconv_truncated.json")
    assert [bool(o.seed) for o in results] == [True, False]
    assert results[1].reject["reason"] == "truncated_file" and results[1].reject["source_row"] == 2


def test_limit_caps_kept_seeds(seed_assets: Path) -> None:
    assert len(seeds_of(seed_assets / "mixed_good_bad.jsonl", limit=3)) == 3


def test_limits_are_configurable(seed_assets: Path) -> None:
    strict_len = list(iter_source(SeedSource(path=str(seed_assets / "chat_messages.jsonl")), Limits(max_turn_chars=40)))
    assert {o.reject["reason"] for o in strict_len if o.reject} == {"absurd_length"}
    few = list(iter_source(SeedSource(path=str(seed_assets / "chat_messages.jsonl")), Limits(min_turns=3)))
    assert [o.reject["reason"] for o in few if o.reject] == ["too_few_turns"]


def test_folder_source_reads_every_file(seed_assets: Path, tmp_path: Path) -> None:
    for name in ("ed_sample.csv", "chat_sharegpt.jsonl"):
        (tmp_path / name).write_bytes((seed_assets / name).read_bytes())
    assert len(seeds_of(tmp_path)) == 5


def test_bundled_seed_set_covers_every_emotion_at_least_twice() -> None:
    results = outcomes(bundled_seeds_path())
    assert [o.reject for o in results if o.reject] == []
    counts = Counter(o.seed["emotion"] for o in results)
    assert len(results) >= 64
    assert set(counts) == set(EMOTIONS)
    assert min(counts.values()) >= 2
    for o in results:
        assert o.seed["messages"][0]["role"] == "user" and o.seed["messages"][-1]["role"] == "assistant"
        assert o.seed["situation"]


def test_bundled_qa_set_is_one_single_turn_post_per_emotion_that_rewrite_plans() -> None:
    from distill.config import GenerateSection
    from distill.emotions import OPPOSITE
    from distill.generate.plan import iter_plan

    results = list(iter_source(SeedSource(path="bundled_qa"), Limits()))
    assert [o.reject for o in results if o.reject] == []
    seeds = [o.seed for o in results]
    assert sorted(s["emotion"] for s in seeds) == sorted(EMOTIONS)
    assert all([m["role"] for m in s["messages"]] == ["user", "assistant"] and s["situation"] for s in seeds)
    assert {(s["language"], s["license"]) for s in seeds} == {("en", "Apache-2.0")}
    # Ordered in opposite pairs: a small `limit` still gives cross-dialogue preference pairs.
    assert all(OPPOSITE[a["emotion"]] == b["emotion"] for a, b in zip(seeds[::2], seeds[1::2]))
    multi_turn = seeds_of(bundled_seeds_path())
    assert {s["id"] for s in multi_turn}.isdisjoint(s["id"] for s in seeds)  # both sets can be loaded in one run
    # Small prefixes of the two sets cover different emotions (the Q&A pairs start at the end of the alphabet).
    assert len({s["emotion"] for s in multi_turn[:16] + seeds[:8]}) == 24
    plan = list(iter_plan(seeds, GenerateSection(modes=["rewrite"]), "teacher"))
    assert [u.mode for u in plan] == ["rewrite"] * len(seeds)


def test_hub_sources_go_through_datasets_load_dataset(seed_assets: Path, tmp_path: Path) -> None:
    # A local dataset folder is what load_dataset resolves offline; the same code path serves hub ids online.
    for name in ("chat_messages.jsonl",):
        (tmp_path / name).write_bytes((seed_assets / name).read_bytes())
    results = list(iter_source(SeedSource(hub=str(tmp_path)), Limits()))
    assert [o.seed["emotion"] for o in results] == ["disappointed", "hopeful"]
    assert results[0].source_file == f"hub:{tmp_path}"


def test_hub_empathetic_dialogues_rows_are_grouped(seed_assets: Path, tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_bytes((seed_assets / "ed_sample.csv").read_bytes())
    seeds = [o.seed for o in iter_source(SeedSource(hub=str(tmp_path)), Limits())]
    assert [s["emotion"] for s in seeds] == ["lonely", "proud", "terrified"]
    # Same conv_ids as the local CSV, so the same seed ids.
    assert [s["id"] for s in seeds] == [s["id"] for s in seeds_of(seed_assets / "ed_sample.csv")]


def test_unreachable_hub_dataset_is_a_clear_error() -> None:
    from distill.errors import InputError

    with pytest.raises(InputError, match="could not be loaded"):
        list(iter_source(SeedSource(hub="nobody/no-such-dataset-offline"), Limits()))
