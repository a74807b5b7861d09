"""Writes the bad-input corpus in tests/assets/bad_inputs/ (run: python tests/assets/make_bad_inputs.py).

One file per case, each with exactly one fault. What each must produce (a reject reason or an error
message) is listed in tests/test_bad_inputs.py, next to the file name.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).parent / "bad_inputs"
ED_HEADER = "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags\n"


def ed_rows(*rows: tuple) -> str:
    return ED_HEADER + "".join(",".join(str(c) for c in row) + ",,\n" for row in rows)


GOOD_ED = [
    ("hit:1_conv:1", 1, "sad", "My cat is ill.", 1, "My cat is ill."),
    ("hit:1_conv:1", 2, "sad", "My cat is ill.", 2, "I am sorry. How is she?"),
]


def esconv(**overrides: object) -> list[dict]:
    item = {
        "emotion_type": "sadness",
        "problem_type": "ongoing depression",
        "situation": "I feel low.",
        "dialog": [
            {"speaker": "seeker", "annotation": {}, "content": "I feel low every morning."},
            {
                "speaker": "supporter",
                "annotation": {"strategy": "Question"},
                "content": "How long has it been like this?",
            },
        ],
    }
    item.update(overrides)
    return [item]


def chat_line(**item: object) -> str:
    return json.dumps(item, ensure_ascii=False) + "\n"


MSGS = [
    {"role": "user", "content": "I feel anxious."},
    {"role": "assistant", "content": "I hear you. What is on your mind?"},
]


def seed_cases() -> dict[str, str | bytes]:
    f: dict[str, str | bytes] = {}
    # EmpatheticDialogues CSV
    f["ed_missing_header_column.csv"] = "conv_id,utterance_idx,context,prompt,utterance\nhit:1_conv:1,1,sad,x,hello\n"
    f["ed_wrong_field_count.csv"] = ED_HEADER + "hit:1_conv:1,1,sad\n"
    f["ed_non_integer_index.csv"] = ed_rows(
        ("hit:1_conv:1", "one", "sad", "x", 1, "hi"), ("hit:1_conv:1", 2, "sad", "x", 2, "hello")
    )
    f["ed_gap_in_turns.csv"] = ed_rows(GOOD_ED[0], ("hit:1_conv:1", 3, "sad", "x", 2, "hello"))
    f["ed_same_speaker_twice.csv"] = ed_rows(GOOD_ED[0], ("hit:1_conv:1", 2, "sad", "x", 1, "again me"))
    f["ed_unknown_emotion.csv"] = ed_rows(*[(r[0], r[1], "meh", *r[3:]) for r in GOOD_ED])
    f["ed_latin1_bytes.csv"] = ED_HEADER.encode() + "hit:1_conv:1,1,sad,x,1,caf\xe9,,\n".encode("latin-1")
    f["ed_truncated.csv"] = ed_rows(*GOOD_ED)[:-12]
    f["ed_empty_utterance.csv"] = ed_rows(GOOD_ED[0], ("hit:1_conv:1", 2, "sad", "x", 2, "  "))
    f["ed_empty_file.csv"] = ""
    # ESConv JSON
    f["esconv_items_not_objects.json"] = "[1, 2]\n"
    f["esconv_missing_dialog.json"] = json.dumps([{k: v for k, v in esconv()[0].items() if k != "dialog"}])
    f["esconv_unknown_speaker.json"] = json.dumps(esconv(dialog=[{"speaker": "moderator", "content": "hi"}]))
    f["esconv_dialog_not_list.json"] = json.dumps(esconv(dialog="seeker: hi"))
    f["esconv_truncated.json"] = json.dumps(esconv() * 2)[:-40]
    f["esconv_unknown_emotion.json"] = json.dumps(esconv(emotion_type="boredom"))
    f["esconv_empty_content.json"] = json.dumps(esconv(dialog=[{"speaker": "seeker", "content": ""}]))
    f["esconv_syntax_error.json"] = '[{"emotion_type": "anger", "dialog": [}]\n'
    # PsyQA / SoulChat single-turn
    f["psyqa_missing_question.json"] = json.dumps([{"description": "d", "answers": ["a"]}], ensure_ascii=False)
    f["psyqa_answers_not_list.json"] = json.dumps([{"question": "q?", "answers": "just one"}], ensure_ascii=False)
    f["psyqa_all_answers_empty.json"] = json.dumps([{"question": "q?", "answers": ["", "  "]}], ensure_ascii=False)
    f["psyqa_question_not_text.json"] = json.dumps([{"question": 42, "answers": ["a"]}])
    f["psyqa_absurd_answer.json"] = json.dumps([{"question": "q?", "answers": ["好" * 9000]}], ensure_ascii=False)
    # SoulChat transcripts
    f["soulchat_no_speaker_tags.jsonl"] = chat_line(input="我很难过。你好。")
    f["soulchat_text_before_tag.jsonl"] = chat_line(input="前言\n用户：你好\n心理咨询师：你好")
    f["soulchat_two_user_turns.jsonl"] = chat_line(input="用户：你好\n用户：在吗")
    f["soulchat_missing_input.jsonl"] = chat_line(topic="学业", target="加油")
    # Generic chat
    f["chat_sharegpt_unknown_speaker.jsonl"] = chat_line(conversations=[{"from": "bot", "value": "hi"}])
    f["chat_sharegpt_missing_value.jsonl"] = chat_line(conversations=[{"from": "human"}])
    f["chat_system_in_middle.jsonl"] = chat_line(messages=[MSGS[0], {"role": "system", "content": "be nice"}, MSGS[1]])
    f["chat_too_many_turns.jsonl"] = chat_line(messages=[MSGS[i % 2] for i in range(70)])
    f["chat_id_wrong_type.jsonl"] = chat_line(id={"nested": 1}, messages=MSGS)
    f["chat_line_is_array.jsonl"] = json.dumps([MSGS]) + "\n"
    f["chat_duplicate_ids.jsonl"] = chat_line(id="x", messages=MSGS) + chat_line(id="x", messages=MSGS)
    f["chat_empty_messages.jsonl"] = chat_line(messages=[])
    f["chat_role_missing.jsonl"] = chat_line(messages=[{"content": "hi"}])
    f["chat_emotion_not_text.jsonl"] = chat_line(emotion=3, messages=MSGS)
    f["chat_only_blank_lines.jsonl"] = "\n\n  \n"
    f["chat_unknown_fields_only.jsonl"] = chat_line(prompt="hi", completion="hello")
    f["chat_seeds.txt"] = "user: hi\nassistant: hello\n"
    return f


def parquet_cases() -> None:
    good = pa.Table.from_pylist([{"id": "p1", "messages": MSGS}])
    pq.write_table(good, OUT / "chat_truncated.parquet")
    data = (OUT / "chat_truncated.parquet").read_bytes()
    (OUT / "chat_truncated.parquet").write_bytes(data[: len(data) // 2])
    pq.write_table(
        pa.Table.from_pylist([{"id": "p2", "messages": "user: hi"}]), OUT / "chat_messages_as_string.parquet"
    )


CONFIGS = {
    "config_unknown_section.yaml": "# bad\ngenrate:\n  variants_per_seed: 2\n",
    "config_unknown_key.yaml": "# bad\nteacher:\n  modle: x\n",
    "config_wrong_type.yaml": "# bad\ngenerate:\n  variants_per_seed: many\n",
    "config_out_of_range.yaml": "# bad\nteacher:\n  gpu_memory_utilization: 1.5\n",
    "config_unknown_backend.yaml": "# bad\nteacher:\n  backend: llamacpp\n",
    "config_top_level_list.yaml": "# bad\n- seeds\n- teacher\n",
    "config_invalid_yaml.yaml": "# bad\nseeds:\n  sources:\n    - path: a.jsonl\n   format: chat\n",
    "config_path_and_hub.yaml": "# bad\nseeds:\n  sources:\n    - {path: a.jsonl, hub: org/data}\n",
    "config_bad_run_name.yaml": "# bad\nrun:\n  name: ../../etc\n",
    "config_no_sources.yaml": "# bad\nseeds:\n  sources: []\n",
    "config_unknown_mode.yaml": "# bad\ngenerate:\n  modes: [rewrite, roleplay]\n",
    "config_section_is_scalar.yaml": "# bad\ntrain: fast\n",
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, data in seed_cases().items():
        (OUT / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    parquet_cases()
    for name, text in CONFIGS.items():
        (OUT / name).write_text(text)
    (OUT / "config_not_utf8.yaml").write_bytes(b"# bad\nrun:\n  name: caf\xe9\n")


if __name__ == "__main__":
    main()
