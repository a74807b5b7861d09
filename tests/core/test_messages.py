"""The one message check: one set of reasons, each caller's policy as rules (seeds, the role-order filter, training)."""

from __future__ import annotations

import pytest

from distill.messages import MessageRules, first_problem, validate_messages


def msgs(*roles: str, text: str = "hi") -> list[dict[str, str]]:
    return [{"role": r, "content": text} for r in roles]


@pytest.mark.parametrize(
    ("messages", "reason", "field"),
    [
        ("user: hi", "wrong_type", "messages"),
        ([], "empty_dialogue", "messages"),
        (["hi"], "wrong_type", "messages[0]"),
        ([{"content": "hi"}], "missing_field", "messages[0].role"),
        ([{"role": "user", "content": 42}], "wrong_type", "messages[0].content"),
        (msgs("user", "tool"), "unknown_role", "messages[1].role"),
        (msgs("user", "system", "assistant"), "misplaced_system", "messages[1].role"),
        (msgs("user", "user"), "roles_not_alternating", "messages[1].role"),
        (msgs("system"), "empty_dialogue", "messages"),
        (msgs("user", "assistant", text=" "), "empty_turn", "messages[0].content"),
    ],
)
def test_the_first_problem_names_its_turn(messages, reason, field):
    problem = first_problem(messages)
    assert problem is not None and (problem.reason, problem.field) == (reason, field) and problem.detail


def test_turns_are_read_in_order():
    assert first_problem(msgs("user", "user", "tool")).reason == "roles_not_alternating"


def test_a_clean_dialogue_has_no_problem_and_comes_back_stripped():
    checked = validate_messages([{"role": "system", "content": "be kind"}, {"role": "user", "content": " hi "}])
    assert checked.problem is None and checked.messages[1] == {"role": "user", "content": "hi"}


def test_policies_are_rules_not_copies():
    assert first_problem(msgs("assistant", "user")) is None
    seeker_first = MessageRules(seeker_first=True)
    assert first_problem(msgs("system", "assistant", "user"), seeker_first).reason == "starts_with_supporter"
    assert first_problem(msgs("user"), MessageRules(require_assistant=True)).reason == "no_assistant_turn"
    assert first_problem(msgs("user", "assistant", text=""), MessageRules(empty_turns="allow")) is None
    capped = MessageRules(max_turn_chars=10)
    assert first_problem(msgs("user", "assistant", text="x" * 11), capped).reason == "absurd_length"
    mapped = MessageRules(role_of={"seeker": "user", "helper": "assistant"}.get)
    assert first_problem(msgs("seeker", "helper"), mapped) is None


def test_dropped_empty_turns_are_repairs_and_rejoin_what_they_split():
    messages = [{"role": "user", "content": "a"}, {"role": "assistant", "content": ""}]
    messages.append({"role": "user", "content": "b"})
    checked = validate_messages(messages, MessageRules(empty_turns="drop"))
    assert checked.problem is None and checked.messages == [{"role": "user", "content": "a\nb"}]
    assert checked.repairs == {"empty_turns_dropped": 1, "turns_joined": 1}
    every = validate_messages(msgs("user", "assistant", text=" "), MessageRules(empty_turns="drop"))
    assert every.problem.reason == "empty_dialogue" and every.problem.detail == "every turn is empty"
