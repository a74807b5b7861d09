"""The bad-input corpus (tests/assets/bad_inputs/): every case ends in a reasoned reject or one clear error line.

Each case is checked twice: in-process for the exact reject reasons, and through the real CLI in strict mode,
where every case must exit 2 with a single line on stderr and no traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from distill.config import SeedSource, SeedsSection, load_config
from distill.errors import DistillError
from distill.seeds.stage import iter_outcomes

BAD = Path(__file__).parent / "assets" / "bad_inputs"

# file -> (format given in the config, expected outcomes in order: a reject reason, "seed", or "error: <text>")
SEED_CASES: dict[str, tuple[str, list[str] | str]] = {
    "ed_missing_header_column.csv": ("auto", ["missing_field"]),
    "ed_wrong_field_count.csv": ("auto", ["wrong_field_count"]),
    "ed_non_integer_index.csv": ("auto", ["wrong_type"]),
    "ed_gap_in_turns.csv": ("auto", ["missing_turns"]),
    "ed_same_speaker_twice.csv": ("auto", ["roles_not_alternating"]),
    "ed_unknown_emotion.csv": ("auto", ["unknown_emotion"]),
    "ed_latin1_bytes.csv": ("auto", ["invalid_utf8"]),
    "ed_truncated.csv": ("auto", ["truncated_file", "seed"]),
    "ed_empty_utterance.csv": ("auto", ["empty_turn"]),
    "ed_empty_file.csv": ("auto", ["empty_file"]),
    "esconv_items_not_objects.json": ("esconv", ["wrong_type", "wrong_type"]),
    "esconv_missing_dialog.json": ("esconv", ["missing_field"]),
    "esconv_unknown_speaker.json": ("auto", ["unknown_role"]),
    "esconv_dialog_not_list.json": ("auto", ["wrong_type"]),
    "esconv_truncated.json": ("auto", ["seed", "truncated_file"]),
    "esconv_unknown_emotion.json": ("auto", ["unknown_emotion"]),
    "esconv_empty_content.json": ("auto", ["empty_turn"]),
    "esconv_syntax_error.json": ("esconv", ["invalid_json"]),
    "psyqa_missing_question.json": ("psyqa", ["missing_field"]),
    "psyqa_answers_not_list.json": ("auto", ["wrong_type"]),
    "psyqa_all_answers_empty.json": ("auto", ["empty_turn"]),
    "psyqa_question_not_text.json": ("auto", ["wrong_type"]),
    "psyqa_absurd_answer.json": ("auto", ["absurd_length"]),
    "soulchat_no_speaker_tags.jsonl": ("soulchat", ["unknown_role"]),
    "soulchat_text_before_tag.jsonl": ("auto", ["unknown_role"]),
    "soulchat_two_user_turns.jsonl": ("auto", ["roles_not_alternating"]),
    "soulchat_missing_input.jsonl": ("soulchat", ["missing_field"]),
    "chat_sharegpt_unknown_speaker.jsonl": ("auto", ["unknown_role"]),
    "chat_sharegpt_missing_value.jsonl": ("auto", ["missing_field"]),
    "chat_system_in_middle.jsonl": ("auto", ["misplaced_system"]),
    "chat_too_many_turns.jsonl": (
        "auto",
        ["seed"],
    ),  # cut into windows by default (long_dialogues: window); reject: tests/seeds/test_imperfect.py
    "chat_id_wrong_type.jsonl": ("auto", ["wrong_type"]),
    "chat_line_is_array.jsonl": ("auto", ["wrong_type"]),
    "chat_duplicate_ids.jsonl": ("auto", ["seed", "duplicate_id"]),
    "chat_empty_messages.jsonl": ("auto", ["empty_dialogue"]),
    "chat_role_missing.jsonl": ("auto", ["missing_field"]),
    "chat_emotion_not_text.jsonl": ("auto", ["wrong_type"]),
    "chat_only_blank_lines.jsonl": ("auto", ["empty_file"]),
    "chat_truncated.parquet": ("auto", ["truncated_file"]),
    "chat_messages_as_string.parquet": ("auto", ["wrong_type"]),
    "chat_unknown_fields_only.jsonl": ("auto", "error: cannot tell the seed format"),
    "chat_seeds.txt": ("auto", "error: unsupported seed file type"),
}

CONFIG_CASES: dict[str, str] = {
    "config_unknown_section.yaml": "genrate: unknown key",
    "config_unknown_key.yaml": "teacher.modle: unknown key",
    "config_wrong_type.yaml": "generate.variants_per_seed: Input should be a valid integer",
    "config_out_of_range.yaml": "teacher.gpu_memory_utilization: Input should be less than or equal to 1",
    "config_unknown_backend.yaml": "teacher.backend: Input should be",
    "config_top_level_list.yaml": "the top level must be a mapping",
    "config_invalid_yaml.yaml": "not valid YAML",
    "config_path_and_hub.yaml": "seeds.sources.0: Value error, exactly one of `path` or `hub`",
    "config_bad_run_name.yaml": "run.name: String should match pattern",
    "config_no_sources.yaml": "seeds.sources: List should have at least 1 item",
    "config_unknown_mode.yaml": "generate.modes.1: Input should be",
    "config_section_is_scalar.yaml": "train: Input should be a valid dictionary",
    "config_not_utf8.yaml": "not valid YAML",
}


def test_corpus_is_complete() -> None:
    on_disk = {p.name for p in BAD.iterdir()}
    assert on_disk == set(SEED_CASES) | set(CONFIG_CASES)
    assert len(on_disk) >= 40


def outcome_labels(path: Path, fmt: str) -> list[str]:
    section = SeedsSection(sources=[SeedSource(path=str(path), format=fmt)])
    labels = []
    for _, outcome in iter_outcomes(section):
        if outcome.seed is not None:
            labels.append("seed")
        else:
            reject = outcome.reject
            assert reject["source_file"] == str(path) and reject["detail"], reject
            labels.append(reject["reason"])
    return labels


@pytest.mark.parametrize("name", sorted(SEED_CASES))
def test_seed_case(name: str) -> None:
    fmt, expected = SEED_CASES[name]
    path = BAD / name
    if isinstance(expected, str):
        with pytest.raises(DistillError) as info:
            outcome_labels(path, fmt)
        assert expected.removeprefix("error: ") in str(info.value) and name in str(info.value)
    else:
        assert outcome_labels(path, fmt) == expected


@pytest.mark.parametrize("name", sorted(CONFIG_CASES))
def test_config_case(name: str) -> None:
    with pytest.raises(DistillError) as info:
        load_config(BAD / name)
    assert CONFIG_CASES[name] in str(info.value) and name in str(info.value)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "distill.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_every_case_through_the_cli_is_exit_2_with_one_line(tmp_path: Path) -> None:
    failures = []
    for name, (fmt, expected) in sorted(SEED_CASES.items()):
        if expected == ["seed"]:
            continue
        out = _cli("seeds", "inspect", str(BAD / name), "--format", fmt, "--strict")
        lines = out.stderr.strip().splitlines()
        if out.returncode != 2 or len(lines) != 1 or "Traceback" in out.stderr or not lines[0].startswith("error: "):
            failures.append((name, out.returncode, out.stderr[-500:]))
    for name in sorted(CONFIG_CASES):
        out = _cli("config", "show", "-c", str(BAD / name))
        if out.returncode != 2 or "Traceback" in out.stderr or not out.stderr.startswith("error: "):
            failures.append((name, out.returncode, out.stderr[-500:]))
    assert failures == []
