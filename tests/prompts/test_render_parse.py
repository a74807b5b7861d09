"""Prompt rendering and reply parsing for every mode, without a model."""

from __future__ import annotations

import pytest

from distill.errors import ConfigError
from distill.prompts.parse import ParseError, parse_turn
from distill.prompts.render import next_role, render_seeker_turn, render_supporter_turn
from distill.prompts.templates import load_template, parse_template_file
from distill.records import STRATEGIES

HISTORY = [
    {"role": "system", "content": "ignored"},
    {"role": "user", "content": "My best friend moved away."},
    {"role": "assistant", "content": "That is a big change. How have you been?"},
    {"role": "user", "content": "Lonely, honestly."},
]


def test_seeker_turn_flips_roles_and_carries_persona():
    msgs = render_seeker_turn(
        "v1", situation="My friend moved\n abroad.", emotion="lonely", language="en", history=HISTORY[:3]
    )
    assert msgs[0]["role"] == "system"
    assert "My friend moved abroad." in msgs[0]["content"] and "You feel lonely." in msgs[0]["content"]
    assert "English" in msgs[0]["content"]
    # opening prompt, then the seeker's own turn as assistant and the supporter's as user: the teacher answers as the
    # seeker
    assert [m["role"] for m in msgs[1:]] == ["user", "assistant", "user"]
    assert msgs[2]["content"] == "My best friend moved away." and msgs[3]["content"].startswith("That is a big change")


def test_selfchat_opening_has_no_history():
    msgs = render_seeker_turn("v1", situation="My dog died.", emotion=None, language="zh", history=[])
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert "Chinese" in msgs[0]["content"] and "You feel" not in msgs[0]["content"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_supporter_turn_has_a_hint_for_every_strategy(strategy):
    msgs = render_supporter_turn("v1", strategy=strategy, language="en", history=HISTORY)
    assert strategy.replace("_", " ") in msgs[0]["content"]
    assert [m["role"] for m in msgs] == [
        "system",
        "user",
        "assistant",
        "user",
    ]  # system of the seed dropped, ours first
    assert "$" not in msgs[0]["content"]


def test_rewrite_supporter_gets_the_reference_answer_continue_does_not():
    answer = "Write your worries down; they hired you for a reason."
    with_ref = render_supporter_turn("v1", strategy="comfort", language="en", history=HISTORY[1:2], reference=answer)
    without = render_supporter_turn("v1", strategy="comfort", language="en", history=HISTORY[1:2])
    assert answer in with_ref[0]["content"] and answer not in without[0]["content"]


def test_next_role_alternates_from_the_history():
    assert next_role([]) == "user"
    assert next_role(HISTORY[:2]) == "assistant"
    assert next_role(HISTORY[:3]) == "user"


def test_rendering_is_deterministic():
    a = render_supporter_turn("v1", strategy="trust", language="en", history=HISTORY)
    b = render_supporter_turn("v1", strategy="trust", language="en", history=HISTORY)
    assert a == b


@pytest.mark.parametrize(
    ("text", "role", "expected"),
    [
        ("I feel so alone since she left.", "user", "I feel so alone since she left."),
        ("Seeker: I feel so alone.\nSupporter: I hear you.", "user", "I feel so alone."),
        ("**Supporter:** That sounds hard.\nSeeker: yes", "assistant", "That sounds hard."),
        ('"That must hurt."', "assistant", "That must hurt."),
        (
            "That must hurt.\nIt is okay to miss her.<|im_end|>garbage",
            "assistant",
            "That must hurt.\nIt is okay to miss her.",
        ),
        ("支持者：我理解你的感受。\n求助者：谢谢", "assistant", "我理解你的感受。"),
        ("The Supporter: I am here.", "assistant", "I am here."),
    ],
)
def test_parse_turn_keeps_only_the_speakers_text(text, role, expected):
    assert parse_turn(text, role) == expected


@pytest.mark.parametrize(
    ("text", "role", "code"),
    [
        (None, "user", "empty_output"),
        ("   \n ", "user", "empty_turn"),
        ("Supporter: I hear you.", "user", "empty_turn"),  # the model answered as the other side
        ("Seeker:", "user", "empty_turn"),
        ("<|im_end|>", "assistant", "empty_turn"),
        ("k", "assistant", "too_short"),
    ],
)
def test_parse_turn_rejects_with_a_code(text, role, code):
    with pytest.raises(ParseError) as err:
        parse_turn(text, role)
    assert err.value.code == code


def test_template_files_parse_and_unknown_version_is_a_config_error():
    assert set(load_template("v1", "seeker")) == {"system", "opening"}
    assert set(load_template("v1", "supporter")) == {"system", "reference"}
    assert set(load_template("v1", "strategies")) == set(STRATEGIES)
    with pytest.raises(ConfigError, match="v9/seeker.txt"):
        load_template("v9", "seeker")
    with pytest.raises(ConfigError, match="x.txt:1"):
        parse_template_file("stray text\n[system]\nhi", "x.txt")


def test_trim_to_sentence_keeps_complete_sentences_only():
    from distill.prompts.parse import trim_to_sentence

    assert (
        trim_to_sentence("That sounds hard. I am here for you! What happened when you")
        == "That sounds hard. I am here for you!"
    )
    assert trim_to_sentence('She told me "please stay." Then I left and') == 'She told me "please stay."'
    assert trim_to_sentence("我理解你的感受。你愿意多说一点吗？我们可以一起") == "我理解你的感受。你愿意多说一点吗？"
    with pytest.raises(ParseError) as err:
        trim_to_sentence("Hi. Oh. And then the whole thing went")
    assert err.value.code == "truncated"
