"""Held-out seeds -> evaluation prompts with references; deterministic selection."""

from __future__ import annotations

import random

from distill.evaluate.prompts import EvalPrompt, prompt_from_seed, responder_messages, select_seeds


def seed(messages: list[tuple[str, str]], emotion: str | None = "sad", sid: str = "abc") -> dict:
    return {
        "id": sid,
        "source": "t",
        "emotion": emotion,
        "situation": None,
        "messages": [{"role": r, "content": c} for r, c in messages],
    }


def test_reference_is_the_last_supporter_turn_after_a_seeker_turn() -> None:
    p = prompt_from_seed(
        seed(
            [
                ("system", "be kind"),
                ("user", "u1"),
                ("assistant", "a1"),
                ("user", "u2"),
                ("assistant", "a2"),
                ("user", "u3"),
            ]
        )
    )
    assert isinstance(p, EvalPrompt)
    assert p.reference == "a2"
    assert [m["content"] for m in p.context] == ["u1", "a1", "u2"]
    assert p.seeker_last == "u2"
    assert p.polarity == "negative"


def test_seeker_only_seed_has_no_reference() -> None:
    p = prompt_from_seed(seed([("user", "my dog died")], emotion="proud"))
    assert isinstance(p, EvalPrompt) and p.reference is None and p.polarity == "positive"
    assert prompt_from_seed(seed([("user", "x")], emotion=None)).polarity is None


def test_seed_without_seeker_turn_is_a_reject() -> None:
    reject = prompt_from_seed(seed([("assistant", "hello, how can I help?")]))
    assert isinstance(reject, dict)
    assert (
        reject["stage"] == "eval"
        and reject["reason"] == "no_seeker_turn"
        and reject["id"] == "abc"
        and reject["field"] == "messages"
    )


def test_selection_is_the_smallest_ids_whatever_the_order() -> None:
    seeds = [seed([("user", "x")], sid=f"{i:04x}") for i in range(50)]
    shuffled = seeds[:]
    random.Random(1).shuffle(shuffled)
    picked = select_seeds(iter(shuffled), 5, balance_emotions=False)
    assert [s["id"] for s in picked] == ["0000", "0001", "0002", "0003", "0004"]


def test_balanced_selection_goes_round_robin_over_emotions() -> None:
    emotions = ["sad"] * 20 + ["joyful"] * 5 + ["afraid"] * 1 + [None] * 2
    seeds = [seed([("user", "x")], emotion=e, sid=f"{i:04x}") for i, e in enumerate(emotions)]
    random.Random(2).shuffle(seeds)
    picked = select_seeds(iter(seeds), 7)
    by_emotion = {e: sorted(s["id"] for s in picked if s["emotion"] == e) for e in (None, "afraid", "joyful", "sad")}
    # rank 0 of every emotion (unlabeled first, then by name), then rank 1 of those that have one, until 7
    assert by_emotion == {
        None: ["001a", "001b"],
        "afraid": ["0019"],
        "joyful": ["0014", "0015"],
        "sad": ["0000", "0001"],
    }
    assert len(picked) == 7 and [s["id"] for s in picked] == sorted(s["id"] for s in picked)
    assert {s["emotion"] for s in picked} == {"sad", "joyful", "afraid", None}
    assert select_seeds(iter(seeds), 7) == picked  # deterministic whatever the order
    assert len(select_seeds(iter(seeds), 100)) == len(emotions)


def test_every_system_gets_the_same_instruction_then_the_context() -> None:
    p = prompt_from_seed(seed([("user", "u1"), ("assistant", "a1")]))
    messages = responder_messages(p, "v1")
    assert messages[0]["role"] == "system" and "caring" in messages[0]["content"]
    assert messages[1:] == [{"role": "user", "content": "u1"}]
