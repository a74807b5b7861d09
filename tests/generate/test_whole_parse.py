"""Whole dialogues (generate.style: whole) without a model: the shape of the new turns, its schema, the prompt, and the
strict parser that holds any backend's reply to the schema's rules."""

from __future__ import annotations

import json

import pytest

from distill.prompts.parse import ParseError, parse_whole_dialogue
from distill.prompts.whole import (
    WholeShape,
    dialogue_schema,
    format_example,
    planned_strategies,
    render_whole_dialogue,
    shape_for,
)
from distill.records import STRATEGIES


def turns(*roles: str) -> list[dict[str, str]]:
    return [{"role": r, "content": f"turn {i}"} for i, r in enumerate(roles)]


@pytest.mark.parametrize(
    ("history", "target", "shape"),
    [
        ([], 8, (False, 4)),  # selfchat: 8 messages, the seeker opens
        ([], 5, (False, 3)),  # an odd target still ends on the supporter, as turn by turn does
        (turns("user"), 8, (True, 3)),  # rewrite: the seed post, then reply + 3 exchanges
        (turns("user", "assistant", "user", "assistant"), 8, (False, 2)),  # continue after a supporter turn
        (turns("user"), 5, (True, 2)),  # continue after a seeker turn
        (turns("user"), 2, (True, 0)),  # just the reply
        (turns("user", "assistant"), 2, (False, 1)),  # already long enough: at least one new exchange
    ],
)
def test_the_shape_reaches_the_target_and_ends_on_the_supporter(history, target, shape):
    got = shape_for(history, target, 300)
    assert (got.opens_with_reply, got.exchanges) == shape
    total = len(history) + got.new_turns
    assert total >= target and (total - len(history)) == got.new_turns and total % 2 == 0


def test_the_schema_bounds_every_turn_and_fixes_the_length():
    schema = dialogue_schema(WholeShape(True, 3, 240))
    assert json.loads(json.dumps(schema)) == schema and schema["required"] == ["reply", "exchanges"]
    exchanges = schema["properties"]["exchanges"]
    assert exchanges["minItems"] == exchanges["maxItems"] == 3
    item = exchanges["items"]
    assert list(item["properties"]) == [
        "seeker",
        "strategy",
        "supporter",
    ]  # the strategy is named before the reply it shapes
    assert item["properties"]["strategy"]["enum"] == list(STRATEGIES)
    assert item["properties"]["supporter"]["maxLength"] == 240 and item["additionalProperties"] is False
    assert "reply" not in dialogue_schema(WholeShape(False, 2, 240))["properties"]


def test_the_prompt_names_the_plan_and_describes_the_reply():
    shape = WholeShape(True, 2, 240)
    strategies = planned_strategies(("comfort", "trust"), shape)
    assert strategies == ["comfort", "trust", "comfort"]  # the plan cycles over supporter turns, as turn by turn
    form = format_example(shape, strategies)
    assert (
        '"reply"' in form
        and '"strategy": "comfort"' in form
        and "exactly 2 objects" in form
        and form.endswith("strategies trust, comfort.")
    )
    assert '"reply"' not in format_example(WholeShape(False, 4, 240), ["trust"] * 4)
    history = [{"role": "user", "content": "I start a new job on Monday and cannot sleep."}]
    system, user = render_whole_dialogue(
        "v1",
        "rewrite",
        shape,
        strategies=strategies,
        situation=None,
        emotion="anxious",
        language="en",
        history=history,
        reference="They hired you.",
    )
    assert system["role"] == "system" and "JSON" in system["content"] and "English" in system["content"]
    assert "Seeker: I start a new job" in user["content"] and "They hired you." in user["content"]
    assert (
        "1. comfort:" in user["content"]
        and "3. comfort:" in user["content"]
        and format_example(shape, strategies) in user["content"]
    )
    _, selfchat = render_whole_dialogue(
        "v1",
        "selfchat",
        WholeShape(False, 4, 240),
        strategies=["trust"] * 4,
        situation="My dog died.",
        emotion="sad",
        language="en",
        history=[],
    )
    assert "My dog died." in selfchat["content"] and "The Seeker feels sad." in selfchat["content"]


SHAPE = WholeShape(True, 2, 100)
GOOD = {
    "reply": {"strategy": "comfort", "supporter": "I'm so sorry, that sounds heavy."},
    "exchanges": [
        {"seeker": "It is. I can't sleep.", "strategy": "questioning", "supporter": "What keeps you up at night?"},
        {
            "seeker": "Worrying about Monday.",
            "strategy": "emotional support",
            "supporter": "Supporter: I'm here with you.",
        },
    ],
}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(GOOD),
        "Here is the conversation:\n```json\n" + json.dumps(GOOD, indent=2) + "\n```",
        "<think>{draft}</think>" + json.dumps({k.upper(): v for k, v in GOOD.items()}),
    ],
)
def test_a_reply_to_the_schema_becomes_alternating_turns(text):
    new, named = parse_whole_dialogue(text, SHAPE)
    assert [m["role"] for m in new] == ["assistant", "user", "assistant", "user", "assistant"]
    assert new[-1]["content"] == "I'm here with you."  # a role tag inside a turn is dropped
    assert named == ["comfort", "questioning", "emotional_support"]


def bad(**changes) -> str:
    obj = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        node = obj
        *parents, last = path.split("__")
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value
    return json.dumps(obj)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty_output"),
        ("I'm sorry you feel that way.", "not_json"),
        ('{"reply": {"strategy": "comfort", "supporter": "I am so', "not_json"),  # cut off before the JSON closed
        ("[1, 2]", "not_json"),
        (bad(exchanges=GOOD["exchanges"][:1]), "wrong_turn_count"),
        (bad(exchanges="none"), "wrong_shape"),
        (bad(reply="I'm sorry"), "wrong_shape"),
        (bad(reply__strategy=None), "unknown_strategy"),
        (bad(exchanges__0__strategy="advice"), "unknown_strategy"),
        (bad(exchanges__1__seeker=3), "wrong_shape"),
        (bad(exchanges__0__supporter="Seeker: what?"), "empty_turn"),  # only the other side's line
        (bad(exchanges__0__seeker="x" * 101), "turn_too_long"),
        (bad(exchanges__1__supporter="What keeps you up at night?"), "repeated_turn"),
    ],
)
def test_a_reply_that_breaks_a_rule_is_a_parse_error_naming_it(text, code):
    with pytest.raises(ParseError) as caught:
        parse_whole_dialogue(text, SHAPE)
    assert caught.value.code == code and caught.value.detail
