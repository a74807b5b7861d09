"""Writes the seed fixtures in tests/assets/ (run: python tests/assets/make_assets.py).

All dialogue text here was written for this project. Files with deliberate faults (invalid UTF-8,
cut-off last line) are produced byte by byte so the faults are exact and reproducible.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
SEEDS = HERE / "seeds"


def jl(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False) + "\n"


def write(name: str, data: str | bytes) -> None:
    path = SEEDS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


ED_HEADER = "conv_id,utterance_idx,context,prompt,speaker_idx,utterance,selfeval,tags\n"
ED_GOOD = (
    "hit:1_conv:2,1,lonely,I moved to a new city and_comma_ after a month_comma_ I still eat dinner alone every "
    "night.,11,"
    "It has been a month since I moved here and I still have not made a single friend.,5|5|5_2|2|5,\n"
    "hit:1_conv:2,2,lonely,I moved to a new city and_comma_ after a month_comma_ I still eat dinner alone every "
    "night.,12,"
    "That sounds really isolating. What have evenings been like for you?,5|5|5_2|2|5,\n"
    "hit:1_conv:2,3,lonely,I moved to a new city and_comma_ after a month_comma_ I still eat dinner alone every "
    "night.,11,"
    "Quiet. I cook_comma_ eat in front of the TV and go to bed early.,5|5|5_2|2|5,\n"
    "hit:1_conv:2,4,lonely,I moved to a new city and_comma_ after a month_comma_ I still eat dinner alone every "
    "night.,12,"
    "A month is not long to build a circle. Is there anything you used to enjoy that could bring people your way "
    "here?,5|5|5_2|2|5,\n"
    "hit:3_conv:6,1,proud,My daughter read her first full book out loud to me yesterday.,21,"
    "My daughter read a whole chapter book to me last night_comma_ all by herself!,4|4|4_3|3|3,\n"
    "hit:3_conv:6,2,proud,My daughter read her first full book out loud to me yesterday.,22,"
    "That is wonderful! You must have been beaming. How long has she been working on her reading?,4|4|4_3|3|3,\n"
    "hit:7_conv:14,1,terrified,I heard someone trying the handle of my front door at 3am.,31,"
    "Last night someone tried to open my front door at three in the morning.,5|5|5_5|5|5,\n"
    "hit:7_conv:14,2,terrified,I heard someone trying the handle of my front door at 3am.,32,"
    "That must have been frightening. Are you safe now_comma_ and did you manage to call anyone?,5|5|5_5|5|5,\n"
)

# Faults, one per conversation: a row with too few fields, a gap in utterance_idx, the same speaker twice,
# an unknown emotion, a non-UTF-8 line, and a last line cut off mid-row.
ED_BAD = (
    ED_HEADER.encode()
    + b"hit:9_conv:1,1,sad,My old dog passed away.,41,I had to say goodbye to my dog today.,,\n"
    + b"hit:9_conv:1,2,sad,My old dog passed away.,42,I am so sorry. How old was he?,,\n"
    + b"hit:9_conv:2,1,grateful,A stranger paid for my groceries.\n"
    + b"hit:9_conv:3,1,anxious,I have an exam tomorrow.,51,My exam is tomorrow and I cannot focus.,,\n"
    + b"hit:9_conv:3,3,anxious,I have an exam tomorrow.,51,I keep rereading the same page.,,\n"
    + b"hit:9_conv:4,1,excited,We are going to Japan.,61,We booked our trip to Japan!,,\n"
    + b"hit:9_conv:4,2,excited,We are going to Japan.,61,Two weeks in Kyoto and Osaka.,,\n"
    + b"hit:9_conv:5,1,bored_and_tired,Nothing to do.,71,I am bored.,,\n"
    + b"hit:9_conv:5,2,bored_and_tired,Nothing to do.,72,What would you like to do?,,\n"
    + b"hit:9_conv:6,1,afraid,I saw a spider.,81,There was a huge spider in the bath\xff\xfe today.,,\n"
    + b"hit:9_conv:7,1,content,A slow Sunday.,91,Today was a slow and lovely Sunday.,,\n"
    + b"hit:9_conv:7,2,content,A slow Sunday.,92,Those days are precious. What did you do?,,\n"
    + b"hit:9_conv:8,1,joyful,I got the job.,93,I got the jo"
)

ESCONV = [
    {
        "experience_type": "Previous Experience",
        "emotion_type": "anxiety",
        "problem_type": "job crisis",
        "situation": "My contract ends next month and I have no offers yet.",
        "survey_score": {},
        "dialog": [
            {
                "speaker": "supporter",
                "annotation": {"strategy": "Question"},
                "content": "Hi, how are you feeling today?",
            },
            {"speaker": "seeker", "annotation": {}, "content": "Honestly pretty worried. My contract ends next month."},
            {
                "speaker": "supporter",
                "annotation": {"strategy": "Reflection of feelings"},
                "content": "That sounds stressful.",
            },
            {
                "speaker": "supporter",
                "annotation": {"strategy": "Question"},
                "content": "Have you been able to apply anywhere yet?",
            },
            {"speaker": "seeker", "annotation": {}, "content": "A few places, but nobody has answered."},
            {
                "speaker": "supporter",
                "annotation": {"strategy": "Affirmation and Reassurance"},
                "content": "Applying while still employed is a good start, and silence early on is common.",
            },
        ],
    },
    {
        "experience_type": "Current Experience",
        "emotion_type": "sadness",
        "problem_type": "breakup with partner",
        "situation": "My partner and I broke up after five years.",
        "survey_score": {},
        "dialog": [
            {"speaker": "seeker", "annotation": {}, "content": "We broke up last week after five years together."},
            {
                "speaker": "supporter",
                "annotation": {"strategy": "Restatement or Paraphrasing"},
                "content": "Five years is a big part of your life to lose all at once.",
            },
            {"speaker": "seeker", "annotation": {}, "content": "I keep reaching for my phone to text them."},
            {
                "speaker": "supporter",
                "annotation": {"strategy": "Self-disclosure"},
                "content": "I did the same after a breakup; habits take time to fade.",
            },
            {
                "speaker": "supporter",
                "annotation": {"strategy": "Providing Suggestions"},
                "content": "Maybe text a friend instead when the urge comes?",
            },
        ],
    },
]

PSYQA = [
    {
        "questionID": "q-001",
        "question": "工作压力很大，晚上总是睡不着怎么办？",
        "description": "最近项目很多，每天加班到很晚，躺在床上脑子还在想工作。",
        "keywords": "压力,睡眠",
        "answers": [
            {
                "answer_text": "你好，能感受到你最近真的很累。白天的压力延续到了夜里，让身体和大脑都无法放松。"
                "可以试着在睡前留出半小时，把明天要做的事写下来，让大脑知道这些事情已经被记住了。",
                "has_label": False,
            }
        ],
    },
    {
        "questionID": "q-002",
        "question": "和父母沟通总是吵架，我该怎么办？",
        "description": "",
        "keywords": "家庭,沟通",
        "answers": [
            "听起来你很想和父母好好沟通，但每次都以争吵结束，这一定让你很无力。也许可以先从倾听他们的担心开始。"
        ],
    },
]

SOULCHAT = [
    {
        "id": "sc-1",
        "topic": "学业压力",
        "input": (
            "用户：我马上要考研了，每天都很焦虑。\n"
            "心理咨询师：考研的压力确实很大，你最近的作息怎么样？\n"
            "用户：经常熬夜，白天没精神。\n"
            "心理咨询师："
        ),
        "target": "熬夜会让焦虑更明显。我们可以一起看看怎样安排复习和休息，让你既能坚持又不被压垮。",
    },
    {
        "id": "sc-2",
        "topic": "人际关系",
        "dialogue": (
            "用户：室友总是很晚才回来，吵得我睡不好。\n"
            "心理咨询师：被打扰睡眠真的很难受。你和室友聊过这件事吗？\n"
            "用户：还没有，怕关系变僵。\n"
            "心理咨询师：担心关系是很自然的。也许可以先用轻松的方式说出你的感受。"
        ),
    },
]

CHAT_MESSAGES = [
    {
        "id": "c-1",
        "emotion": "disappointed",
        "situation": "I was passed over for a promotion I had worked toward for two years.",
        "messages": [
            {"role": "user", "content": "They gave the promotion to someone who joined six months ago."},
            {
                "role": "assistant",
                "content": "After two years of working toward it, that must really sting. How are you holding up?",
            },
            {"role": "user", "content": "I feel like my effort did not count for anything."},
            {
                "role": "assistant",
                "content": "It makes sense to feel that way. Would it help to ask your manager what they were looking "
                "for?",
            },
        ],
    },
    {
        "id": "c-2",
        "emotion": "hopeful",
        "messages": [
            {"role": "system", "content": "You are a supportive listener."},
            {"role": "user", "content": "My test results come back next week and the doctor sounded optimistic."},
            {
                "role": "assistant",
                "content": "That is encouraging to hear. What did the doctor say that gave you hope?",
            },
        ],
    },
]

CHAT_SHAREGPT = [
    {
        "id": "s-1",
        "emotion": "embarrassed",
        "conversations": [
            {"from": "human", "value": "I called my teacher 'mum' in front of the whole class today."},
            {"from": "gpt", "value": "Oh, that happens to so many people! How did the class react?"},
        ],
    },
    {
        "id": "s-2",
        "conversations": [
            {"from": "human", "value": "I finally finished my first marathon."},
            {
                "from": "gpt",
                "value": "Congratulations, that is a huge achievement! How do you feel now that it is done?",
            },
            {"from": "human", "value": "Exhausted but really proud."},
            {"from": "gpt", "value": "You have every right to be proud. What kept you going in the last miles?"},
        ],
    },
]


def _good(i: int, emotion: str = "sad") -> dict:
    return {
        "id": f"m-{i}",
        "emotion": emotion,
        "messages": [
            {"role": "user", "content": f"Something hard happened today ({i})."},
            {"role": "assistant", "content": "I am here and listening. Do you want to tell me about it?"},
        ],
    }


def mixed_good_bad() -> bytes:
    """Chat JSONL mixing 6 good rows with one row per kind of fault; expected outcomes in README.md."""
    long_text = "word " * 2000  # 10,000 chars > default max_turn_chars 8000
    lines = [
        jl(_good(1)),
        jl({"id": "m-2", "emotion": "sad"}),  # missing_field: messages
        jl(_good(3, "joyful")),
        jl(
            {"id": "m-4", "messages": [{"role": "user", "content": "   "}, {"role": "assistant", "content": "Hi"}]}
        ),  # empty_turn
        jl({"id": "m-5", "messages": [{"role": "therapist", "content": "Hello"}]}),  # unknown_role
        jl(
            {"id": "m-6", "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}
        ),  # roles_not_alternating
        jl(_good(7, "Grateful")),  # label case is normalized
        jl({"id": "m-8", "messages": [{"role": "user", "content": long_text}]}),  # absurd_length
        jl({"id": "m-9", "messages": "user: hello"}),  # wrong_type
        jl({"id": "m-10", "emotion": "hangry", "messages": _good(10)["messages"]}),  # unknown_emotion
        jl(_good(1)),  # duplicate_id (same id as the first row)
        jl(_good(12, "afraid")),
        jl({"id": "m-13", "messages": [{"role": "user", "content": 42}]}),  # wrong_type (content)
        '{"id": "m-14", "messages": [oops]}\n',  # invalid_json
        jl(_good(15, "trusting")),
        jl(_good(16)),
    ]
    data = "".join(lines).encode("utf-8")
    data += (
        b'{"id": "m-17", "messages": [{"role": "user", "content": "caf\xe9 au lait"}]}\n'  # invalid_utf8 (latin-1 byte)
    )
    data += b'{"id": "m-18", "messages": [{"role": "user", "content": "I was about to sa'  # truncated_file
    return data


def main() -> None:
    write("ed_sample.csv", ED_HEADER + ED_GOOD)
    write("ed_bad.csv", ED_BAD)
    write("esconv_sample.json", json.dumps(ESCONV, ensure_ascii=False, indent=1) + "\n")
    # The same array cut off in the middle of its second item.
    full = json.dumps(ESCONV, ensure_ascii=False, indent=1)
    write("esconv_truncated.json", full[: full.index('"Five years')])
    write("psyqa_sample.json", json.dumps(PSYQA, ensure_ascii=False, indent=1) + "\n")
    write("soulchat_multiturn.jsonl", "".join(jl(x) for x in SOULCHAT))
    write("chat_messages.jsonl", "".join(jl(x) for x in CHAT_MESSAGES))
    write("chat_sharegpt.jsonl", "".join(jl(x) for x in CHAT_SHAREGPT))
    table = pa.Table.from_pylist(
        [
            {"id": r["id"], "emotion": r.get("emotion"), "situation": r.get("situation"), "messages": r["messages"]}
            for r in CHAT_MESSAGES
        ]
    )
    pq.write_table(table, SEEDS / "chat_messages.parquet")
    write("mixed_good_bad.jsonl", mixed_good_bad())


if __name__ == "__main__":
    main()
