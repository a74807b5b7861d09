"""Published corpora as they are: role maps, long dialogues (windows / truncate / reject), empty turns, licences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distill.config import load_config
from distill.errors import ConfigError
from distill.run_dir import RunDir
from distill.seeds.licenses import combine, commercial_status, is_non_commercial
from distill.seeds.long import window_starts
from distill.seeds.stage import iter_outcomes, load_seeds
from distill.shards import count_rows, iter_rows

LINES = [
    "I have been feeling so alone since the move and I cannot sleep.",
    "That sounds really hard. What has been keeping you up at night?",
]


def failed_esconv(path: Path, n: int = 3) -> Path:
    """Items in the shape of the official repository's FailedESConv.json: speakers `speaker` / `listener`."""
    items = [
        {
            "experience_type": "Previous Experience",
            "emotion_type": "anxiety",
            "problem_type": "job crisis",
            "situation": f"Worried about losing my job ({i}).",
            "survey_score": {},
            "dialog": [
                {"speaker": "speaker", "annotation": {}, "content": f"I think I will lose my job, number {i}."},
                {"speaker": "listener", "annotation": {"strategy": "Question"}, "content": "What makes you think so?"},
                {
                    "speaker": "listener",
                    "annotation": {"strategy": "Affirmation and Reassurance"},
                    "content": "That is a lot.",
                },
                {"speaker": "speaker", "annotation": {}, "content": "My boss stopped talking to me."},
            ],
        }
        for i in range(n)
    ]
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


def long_chat(path: Path, turns: int = 150, empty_at: int | None = None) -> Path:
    messages = [{"role": ("user", "assistant")[i % 2], "content": f"{LINES[i % 2]} (turn {i})"} for i in range(turns)]
    if empty_at is not None:
        messages[empty_at]["content"] = "  "
    path.write_text(json.dumps({"id": "long-1", "messages": messages}) + "\n", encoding="utf-8")
    return path


def run_seeds(tmp_path: Path, sources: str, *extra: str):
    cfg = load_config(None, [f"run.output_dir={tmp_path}", "run.name=t", f"seeds.sources={sources}", *extra])
    stats = load_seeds(cfg)
    run = RunDir(cfg)
    seeds = list(iter_rows(run.seeds)) + list(iter_rows(run.holdout))
    rejects = list(iter_rows(run.rejects("seeds")))
    c = stats.counters
    assert (
        c["records_in"]
        == c.get("records_kept", 0) + c.get("records_rejected", 0)
        == len(rejects) + c.get("records_kept", 0)
    )
    assert c.get("seeds_out", 0) == c.get("for_generation", 0) + c.get("holdout", 0) == len(seeds)
    return stats, seeds, rejects


def outcomes_of(tmp_path: Path, sources: str, *extra: str):
    """(seeds, rejects) straight from the sources, for cases where nothing is kept (the stage refuses to finish
    then)."""
    cfg = load_config(None, [f"run.output_dir={tmp_path}", "run.name=t", f"seeds.sources={sources}", *extra])
    outcomes = [o for _, o in iter_outcomes(cfg.seeds)]
    return [s for o in outcomes for s in o.seeds], [o.reject for o in outcomes if o.reject is not None]


def test_failed_esconv_speaker_listener_is_rejected_without_a_role_map(tmp_path: Path) -> None:
    path = failed_esconv(tmp_path / "FailedESConv.json")
    seeds, rejects = outcomes_of(tmp_path / "a", f"[{{path: {path}, format: esconv}}]")
    assert seeds == []
    assert [r["reason"] for r in rejects] == ["unknown_role"] * 3
    assert "roles:" in rejects[0]["detail"] and rejects[0]["field"] == "dialog[0].speaker"


def test_failed_esconv_loads_fully_with_a_role_map(tmp_path: Path) -> None:
    path = failed_esconv(tmp_path / "FailedESConv.json")
    stats, seeds, rejects = run_seeds(
        tmp_path / "b", f"[{{path: {path}, format: esconv, roles: {{speaker: user, listener: assistant}}}}]"
    )
    assert rejects == [] and len(seeds) == 3
    for seed in seeds:
        assert [m["role"] for m in seed["messages"]] == [
            "user",
            "assistant",
            "user",
        ]  # the two listener replies are one turn
        assert json.loads(seed["metadata"])["strategies"] == [["Question", "Affirmation and Reassurance"]]
        assert seed["emotion"] == "anxious" and seed["license"] == "CC-BY-NC-4.0"


def test_sharegpt_speakers_map_too(tmp_path: Path) -> None:
    path = tmp_path / "sg.jsonl"
    rows = [{"conversations": [{"from": "client", "value": LINES[0]}, {"from": "counsellor", "value": LINES[1]}]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    seeds, rejects = outcomes_of(tmp_path / "a", f"[{{path: {path}}}]")
    assert [r["reason"] for r in rejects] == ["unknown_role"]
    _, seeds, rejects = run_seeds(tmp_path / "b", f"[{{path: {path}, roles: {{client: user, counsellor: assistant}}}}]")
    assert rejects == [] and [m["role"] for m in seeds[0]["messages"]] == ["user", "assistant"]


def test_a_150_turn_conversation_becomes_windows_covering_every_turn(tmp_path: Path) -> None:
    path = long_chat(tmp_path / "long.jsonl")
    stats, seeds, rejects = run_seeds(
        tmp_path / "w", f"[{{path: {path}, window_overlap: 4}}]", "seeds.holdout_fraction=0.5"
    )
    assert rejects == [] and stats.counters["records_kept"] == 1 and stats.counters["records_windowed"] == 1
    windows = sorted(seeds, key=lambda s: json.loads(s["metadata"])["window"]["index"])
    assert len(windows) == len(window_starts(150, 64, 4)) == 3
    assert len({s["id"] for s in windows}) == 3
    covered = set()
    for seed in windows:
        meta = json.loads(seed["metadata"])["window"]
        start, end = meta["turns"]
        assert len(seed["messages"]) == end - start <= 64 and seed["messages"][0]["role"] == "user"
        assert seed["messages"][0]["content"].endswith(f"(turn {start})")
        assert meta["source_row"] == 1 and meta["source_file"] == str(path) and meta["of_turns"] == 150
        covered.update(range(start, end))
    assert covered == set(range(150))
    # All windows of one conversation are on the same side of the holdout split (they share text).
    assert count_rows(RunDir(load_config(None, [f"run.output_dir={tmp_path / 'w'}", "run.name=t"])).holdout) in (0, 3)
    # Deterministic: the same file gives the same window ids.
    _, again, _ = run_seeds(tmp_path / "w2", f"[{{path: {path}, window_overlap: 4}}]", "seeds.holdout_fraction=0.5")
    assert {s["id"] for s in again} == {s["id"] for s in seeds}


def test_long_dialogues_reject_and_truncate(tmp_path: Path) -> None:
    path = long_chat(tmp_path / "long.jsonl")
    seeds, rejects = outcomes_of(tmp_path / "r", f"[{{path: {path}, long_dialogues: reject}}]")
    assert seeds == [] and [r["reason"] for r in rejects] == ["too_many_turns"] and "150 turns" in rejects[0]["detail"]
    stats, seeds, rejects = run_seeds(tmp_path / "t", f"[{{path: {path}, long_dialogues: truncate}}]")
    assert rejects == [] and len(seeds) == 1 and len(seeds[0]["messages"]) == 64
    assert stats.counters["repaired/turns_truncated"] == 86


def test_window_overlap_must_leave_windows_room_to_advance(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="window_overlap"):
        load_config(None, [f"run.output_dir={tmp_path}", "seeds.sources=[{path: bundled, window_overlap: 64}]"])


@pytest.mark.parametrize("n", [1, 2, 3, 64, 65, 66, 127, 150, 401])
def test_window_starts_cover_everything_with_even_steps(n: int) -> None:
    starts = window_starts(n, 64, 2)
    covered = {t for s in starts for t in range(s, min(n, s + 64))}
    assert covered == set(range(n)) and all(s % 2 == 0 for s in starts) and starts == sorted(set(starts))


def test_empty_turn_is_dropped_and_its_neighbours_joined(tmp_path: Path) -> None:
    path = long_chat(tmp_path / "e.jsonl", turns=8, empty_at=3)
    seeds, rejects = outcomes_of(tmp_path / "r", f"[{{path: {path}}}]")
    assert seeds == [] and [(r["reason"], r["field"]) for r in rejects] == [("empty_turn", "messages[3].content")]
    stats, seeds, rejects = run_seeds(tmp_path / "d", f"[{{path: {path}, empty_turns: drop}}]")
    assert rejects == [] and len(seeds) == 1
    roles = [m["role"] for m in seeds[0]["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user", "assistant"]  # turns 2 and 4 (both user) joined
    assert seeds[0]["messages"][2]["content"].endswith("(turn 2)\n" + LINES[0] + " (turn 4)")
    assert json.loads(seeds[0]["metadata"])["repairs"] == {"empty_turns_dropped": 1, "turns_joined": 1}
    assert stats.counters["repaired/empty_turns_dropped"] == 1


def test_licences_per_row_and_the_allowlist(tmp_path: Path) -> None:
    path = failed_esconv(tmp_path / "ESConv.json", n=2)
    sources = (
        f"[{{path: bundled, limit: 5}}, {{path: {path}, format: esconv, roles: {{speaker: user, listener: "
        "assistant}}]"
    )
    stats, seeds, rejects = run_seeds(tmp_path / "a", sources)
    assert sorted({(s["source"], s["license"]) for s in seeds}) == [
        ("chat", "Apache-2.0"),
        ("esconv", "CC-BY-NC-4.0"),
    ]  # the bundled set is in chat format
    assert stats.counters["license/Apache-2.0"] == 5 and stats.counters["license/CC-BY-NC-4.0"] == 2
    stats, seeds, rejects = run_seeds(tmp_path / "b", sources, "seeds.allowed_licenses=[Apache-2.0]")
    assert {s["license"] for s in seeds} == {"Apache-2.0"} and len(seeds) == 5
    assert [r["reason"] for r in rejects] == ["license_not_allowed"] * 2 and "CC-BY-NC-4.0" in rejects[0]["detail"]
    # A declared licence wins over what the loader knows.
    _, seeds, _ = run_seeds(
        tmp_path / "c",
        f"[{{path: {path}, format: esconv, license: CC-BY-4.0, roles: {{speaker: user, listener: assistant}}}}]",
    )
    assert {s["license"] for s in seeds} == {"CC-BY-4.0"}


def test_licence_expressions() -> None:
    assert combine(["CC-BY-NC-4.0", "Apache-2.0", "Apache-2.0"]) == "Apache-2.0 AND CC-BY-NC-4.0"
    assert combine([None]) == "unknown"
    assert is_non_commercial("Apache-2.0 AND CC-BY-NC-4.0") and not is_non_commercial("Apache-2.0")
    assert commercial_status("unknown") == "unknown" and commercial_status("CC-BY-NC-SA-4.0") == "non-commercial"
