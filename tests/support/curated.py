"""Generated dialogues written by hand: eight that pass every filter (each with its EmPO opposite), one bad one per
filter family, near copies and a paraphrase, written as several DIALOGUE shards the way generation leaves them."""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

from distill.config import RunConfig
from distill.records import DIALOGUE, make_id
from distill.run_dir import RunDir
from distill.shards import ShardWriter

# (emotion, [seeker, supporter, seeker, supporter]) — distinct situations that pass every filter.
GOOD: list[tuple[str, list[str]]] = [
    (
        "lonely",
        [
            "My best friend moved to Canada last month and the weekends feel so empty now.",
            "I'm so sorry, that sounds really lonely. It makes sense that weekends hurt most, since they were your "
            "time together. What do you miss most about them?",
            "Mostly just having someone to call without planning. Everything feels like effort now.",
            "That must be exhausting, feeling like every connection takes work. You're not alone in this. Would you "
            "like to talk about what a small first step could look like?",
        ],
    ),
    (
        "joyful",
        [
            "I finally passed my driving test after failing it three times!",
            "Wow, that's wonderful news! It sounds like you kept going even when it was frustrating. How did it feel "
            "when the examiner told you?",
            "I actually screamed in the car. My mom cried a little.",
            "That is such a happy moment to share with her. You must be so proud of your persistence. What is the "
            "first place you want to drive to?",
        ],
    ),
    (
        "anxious",
        [
            "I have a job interview tomorrow and I cannot stop shaking whenever I think about it.",
            "That sounds really stressful, and it makes sense that your body is reacting this way before something "
            "that matters to you. What part of the interview worries you the most?",
            "That they will ask something I cannot answer and I will just freeze.",
            "Freezing is a scary thought, I can imagine how that keeps looping. It's okay to pause and say you need a "
            "moment. Would it help to walk through one question together?",
        ],
    ),
    (
        "nostalgic",
        [
            "I found my grandfather's old fishing hat in the attic today and just sat there holding it.",
            "Oh, that sounds like such a tender moment. It seems like that hat carries a lot of memories of him. What "
            "do you remember about fishing with him?",
            "He used to wake me at five and we would not talk for hours, just watch the lake.",
            "Those quiet mornings sound precious, like a language only the two of you shared. Thank you for sharing "
            "them with me. How are you feeling now, holding onto that memory?",
        ],
    ),
    (
        "afraid",
        [
            "There was someone following me home from the bus stop last night and I still feel unsafe.",
            "That sounds terrifying, and I'm really glad you made it home. It makes sense that you still feel on edge "
            "today. Did you get a chance to tell anyone what happened?",
            "Only my roommate. I do not know if I should report it.",
            "It's understandable to feel unsure about that. You deserve to feel safe in your own neighborhood. What "
            "would make you feel a bit more secure on the way home this week?",
        ],
    ),
    (
        "confident",
        [
            "I gave my first conference talk today and for once I was not nervous at all.",
            "That's fantastic! It sounds like all your preparation really paid off. What do you think made the "
            "difference this time?",
            "I practiced with my team every day for two weeks and I knew the material inside out.",
            "It makes sense that you felt steady, you earned that confidence through real work. I'm glad you got to "
            "enjoy it. How did the audience respond to your talk?",
        ],
    ),
    # The opposites of lonely and joyful, so every emotion here has its EmPO opposite: pairs need no teacher.
    (
        "hopeful",
        [
            "After a year of applications I finally have a second interview at the museum I have always wanted to work "
            "at.",
            "That is wonderful news, and after a whole year of trying it makes sense that you feel a spark of hope. "
            "What does this job mean to you?",
            "It would be the first work I have done that matches what I studied. I keep picturing myself there.",
            "It sounds like this could be a real turning point for you, and you have earned this chance. How are you "
            "preparing for the second round?",
        ],
    ),
    (
        "sad",
        [
            "We had to give away our old cat because my daughter turned out to be allergic, and the flat feels so "
            "quiet.",
            "I'm so sorry, that is a painful goodbye even when it is the right choice for your daughter. It makes "
            "sense that the quiet hurts. How long was the cat with you?",
            "Nine years. She used to sleep on my feet every single night.",
            "Nine years of sharing your nights with her is a real bond, so of course you miss her. Would it help to "
            "ask her new family for a photo now and then?",
        ],
    ),
]


def dialogue(
    emotion: str | None, texts: list[str], *, key: str, strategies: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    roles = ["user", "assistant"] * (len(texts) // 2 + 1)
    return {
        "id": make_id("test-dialogue", key),
        "seed_id": make_id("test-seed", key),
        "mode": "continue",
        "variant": 0,
        "prompt_version": "v1",
        "language": "en",
        "emotion": emotion,
        "strategies": strategies if strategies is not None else ["comfort", "questioning"],
        "messages": [{"role": r, "content": t} for r, t in zip(roles, texts)],
        "teacher": {"model": "test", "revision": None, "backend": "transformers"},
        "sampling": {"temperature": 0.8, "top_p": 0.95, "max_tokens": 512, "seed": 1},
        "usage": {"prompt_tokens": 10, "completion_tokens": 20},
        "finish_reason": "stop",
        "scores": {},
        "created_at": datetime(2026, 1, 1, tzinfo=timezone.utc),
        "source": "chat",
        "license": "Apache-2.0",
        **extra,
    }


def good_dialogues() -> list[dict[str, Any]]:
    # Every other one from a non-commercial source, so licence lineage is checked on a real mix. The last two are the
    # opposites of the first two (lonely/hopeful, joyful/sad): leave them out to see a dialogue without an opposite.
    nc = {"source": "esconv", "license": "CC-BY-NC-4.0"}
    return [
        dialogue(emotion, texts, key=f"good-{i}", **(nc if i % 2 else {})) for i, (emotion, texts) in enumerate(GOOD)
    ]


def near_copy(d: dict[str, Any], key: str) -> dict[str, Any]:
    """The same dialogue with a short sentence added to the last supporter turn (Jaccard of 5-gram shingles ~0.95)."""
    out = copy.deepcopy(d)
    out["id"] = make_id("test-dialogue", key)
    out["messages"][-1]["content"] += " Take your time."
    return out


def write_generated(cfg: RunConfig, shards: list[list[dict[str, Any]]]) -> None:
    """Each inner list becomes its own generated shard (distinct file names, like generation's unit batches)."""
    for i, rows in enumerate(shards):
        with ShardWriter(RunDir(cfg).generated, DIALOGUE, prefix=f"unit{i:03d}") as out:
            out.write(rows)


# The joyful dialogue reworded: Jaccard of 5-gram shingles ~0.23 (MinHash misses it), MiniLM cosine ~0.97.
PARAPHRASE_OF_JOYFUL = [
    "After failing it three times, I finally passed my driving test!",
    "Wow, what wonderful news! It sounds like you kept at it even when it got frustrating. How did you feel when the "
    "examiner told you?",
    "I actually screamed inside the car. My mom cried a bit.",
    "What a happy moment to share with her. You must be so proud of how persistent you were. Where is the first place "
    "you want to drive?",
]

# (expected reject reason, dialogue texts or overrides) — one per filter family.
BAD: list[tuple[str, dict[str, Any]]] = [
    (
        "ai_disclaimer",
        {
            "texts": [
                GOOD[0][1][0],
                "As an AI language model, I cannot feel loneliness, but I understand. What do you miss?",
                GOOD[0][1][2],
                GOOD[0][1][3],
            ]
        },
    ),
    (
        "starts_with_supporter",
        {"texts": GOOD[2][1][1:] + ["Thank you, that would help. What else can I do?"], "roles_offset": 1},
    ),
    ("too_few_turns", {"texts": GOOD[3][1][:2]}),
    (
        "crisis_without_referral",
        {
            "texts": [
                "I keep thinking everyone would be better off if I just ended my life.",
                "I'm sorry you feel that way. It sounds like a hard week. Maybe a warm bath would help you relax "
                "tonight?",
                "Maybe. I just feel empty.",
                "That emptiness sounds really heavy. What usually helps you unwind in the evening?",
            ]
        },
    ),
    (
        "language_not_allowed",
        {
            "texts": [
                "Mi mejor amiga se mudó a otro país y los fines de semana me siento muy sola.",
                "Lo siento mucho, eso suena muy difícil. ¿Qué es lo que más extrañas de ella?",
                "Sobre todo poder llamarla sin planear nada.",
                "Tiene sentido que te sientas así. ¿Te gustaría hablar de cómo mantener el contacto?",
            ]
        },
    ),
    ("truncated", {"texts": GOOD[4][1], "finish_reason": "length"}),
]


def bad_dialogues() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for i, (reason, spec) in enumerate(BAD):
        d = dialogue("sad", spec["texts"], key=f"bad-{i}")
        if spec.get("roles_offset"):
            roles = ["assistant", "user"] * 4
            d["messages"] = [{"role": r, "content": m["content"]} for r, m in zip(roles, d["messages"])]
        if "finish_reason" in spec:
            d["finish_reason"] = spec["finish_reason"]
        out.append((reason, d))
    return out
