from __future__ import annotations

import pytest

from distill.filters.base import verdict
from distill.filters.heuristics import (
    AdviceDump,
    Boilerplate,
    Language,
    PromptLeak,
    RepeatedTurns,
    RoleOrder,
    ScoreThreshold,
    Truncated,
    TurnCount,
    TurnLength,
)

SEEKER = "My sister stopped talking to me after an argument and I keep replaying it."
SUPPORTER = "That sounds painful, and it makes sense that you keep replaying it. What do you wish you could tell her?"
SEEKER2 = "I wish I could say I did not mean what I said about her husband."
SUPPORTER2 = (
    "It sounds like you regret those words and miss her. Would you like to think about how you might reach out?"
)


def reason(flt, record) -> str | None:
    keep, why = verdict(flt(record))
    return None if keep else why


def test_role_order(dlg):
    f = RoleOrder()
    assert reason(f, dlg(SEEKER, SUPPORTER)) is None
    assert reason(f, dlg("be kind", SEEKER, SUPPORTER, roles=["system", "user", "assistant"])) is None
    assert reason(f, dlg(SUPPORTER, SEEKER, roles=["assistant", "user"])) == "starts_with_supporter"
    assert reason(f, dlg(SEEKER, SEEKER2, SUPPORTER, roles=["user", "user", "assistant"])) == "roles_not_alternating"
    assert reason(f, dlg(SEEKER, "x", SUPPORTER, roles=["user", "system", "assistant"])) == "misplaced_system"
    assert reason(f, dlg(SEEKER, SUPPORTER, roles=["user", "tool"])) == "unknown_role"
    assert reason(f, dlg()) == "empty_dialogue"


def test_turn_count_excludes_system(dlg):
    f = TurnCount(4, 6)
    assert reason(f, dlg(SEEKER, SUPPORTER, SEEKER2, SUPPORTER2)) is None
    assert (
        reason(f, dlg("sys", SEEKER, SUPPORTER, SEEKER2, roles=["system", "user", "assistant", "user"]))
        == "too_few_turns"
    )
    assert reason(f, dlg(*[SEEKER, SUPPORTER] * 4)) == "too_many_turns"


def test_turn_length_names_the_turn(dlg):
    f = TurnLength(5, 120)
    assert reason(f, dlg(SEEKER, SUPPORTER)) is None
    result = f(dlg(SEEKER, "ok"))
    assert result[1] == "turn_too_short" and "turn 1 (assistant)" in result.detail
    assert reason(f, dlg(SEEKER, SUPPORTER + " " + SUPPORTER)) == "turn_too_long"


def test_truncated(dlg):
    assert reason(Truncated(), dlg(SEEKER, SUPPORTER, finish_reason="length")) == "truncated"
    assert reason(Truncated(), dlg(SEEKER, SUPPORTER)) is None


@pytest.mark.parametrize(
    ("texts", "allowed", "expected"),
    [
        ((SEEKER, SUPPORTER), ["en"], None),
        (
            ("我和妹妹吵架以后她就不理我了，我一直在想这件事。", "听起来你很难过，也很想念她。你最想对她说什么？"),
            ["zh"],
            None,
        ),
        (
            ("我和妹妹吵架以后她就不理我了，我一直在想这件事。", "听起来你很难过，也很想念她。你最想对她说什么？"),
            ["en"],
            "language_not_allowed",
        ),
        (
            (
                "Mi hermana dejó de hablarme después de una discusión y no dejo de pensar en ello.",
                "Eso suena muy doloroso. ¿Qué te gustaría decirle ahora?",
            ),
            ["en", "zh"],
            "language_not_allowed",
        ),
        (
            (
                "Mi hermana dejó de hablarme después de una discusión y no dejo de pensar en ello.",
                "Eso suena muy doloroso. ¿Qué te gustaría decirle ahora?",
            ),
            ["es"],
            None,
        ),
        ((SEEKER, SUPPORTER), [], None),
    ],
)
def test_language(dlg, texts, allowed, expected):
    assert reason(Language(allowed), dlg(*texts)) == expected


ZH = ("我和妹妹吵架以后她就不理我了，我一直在想这件事。", "听起来你很难过，也很想念她。你最想对她说什么？")


@pytest.mark.parametrize(
    ("texts", "seed_language", "expected"),
    [
        (ZH, "zh", None),  # PsyQA / SoulChat seeds keep their Chinese dialogues with no setting
        (ZH, "en", "language_not_allowed"),  # an English seed whose dialogue drifted into Chinese
        ((SEEKER, SUPPORTER), "en", None),
        ((SEEKER, SUPPORTER), "zh", "language_not_allowed"),
        ((SEEKER, SUPPORTER), None, None),  # a seed with no language to follow
    ],
)
def test_language_follows_the_seed_by_default(dlg, texts, seed_language, expected):
    record = dlg(*texts, language=seed_language)
    assert reason(Language(None), record) == expected
    if expected:
        assert "the seed's language" in Language(None)(record).detail


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (SUPPORTER, None),
        ("As an AI, I don't have feelings, but that sounds hard.", "ai_disclaimer"),
        ("I'm just a language model. What happened next?", "ai_disclaimer"),
        ("作为一个AI，我无法真正理解你的感受。", "ai_disclaimer"),
        ("I'm sorry, but I can't help with that.", "refusal"),
        ("I am unable to provide support for this topic.", "refusal"),
        # Not boilerplate: the supporter talks about someone else's AI, or is sorry without refusing.
        ("I'm sorry you are going through this. It makes sense to feel hurt.", None),
    ],
)
def test_boilerplate(dlg, reply, expected):
    assert reason(Boilerplate(), dlg(SEEKER, reply)) == expected


def test_advice_dump_needs_acknowledgement(dlg):
    dump = (
        "You should call her today. Try to apologize first. Make sure you listen. Don't bring up the past. Write "
        "her a letter."
    )
    acknowledged = "That sounds so painful. " + dump
    assert reason(AdviceDump(3), dlg(SEEKER, dump)) == "advice_without_acknowledgement"
    assert reason(AdviceDump(3), dlg(SEEKER, acknowledged)) is None
    assert reason(AdviceDump(5), dlg(SEEKER, dump)) is None  # five directives are allowed at max 5
    zh_dump = "你应该马上给她打电话。你需要先道歉。你必须认真倾听。你要写一封信。"
    assert reason(AdviceDump(3), dlg("我和妹妹吵架了。", zh_dump)) == "advice_without_acknowledgement"


def test_repetition(dlg):
    assert reason(RepeatedTurns(), dlg(SEEKER, SUPPORTER, SEEKER2, SUPPORTER2)) is None
    # The same reply again, differing only in case and punctuation.
    assert (
        reason(RepeatedTurns(), dlg(SEEKER, SUPPORTER, SEEKER2, SUPPORTER.upper().replace(",", ""))) == "repeated_turn"
    )
    looping = "I am here for you always. " * 4
    assert reason(RepeatedTurns(), dlg(SEEKER, looping)) == "repetitive_text"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (SUPPORTER, None),
        ("That sounds hard.\nSeeker: I know.\nSupporter: I'm here.", "prompt_leak"),
        ("Continue this conversation with exactly 4 more turns.", "prompt_leak"),
        ("<|im_start|>assistant I hear you", "prompt_leak"),
        ("I hear you. $strategies", "prompt_leak"),
        ("The person who supported me at work was great.", None),  # the word alone is not a speaker tag
    ],
)
def test_prompt_leak(dlg, reply, expected):
    assert reason(PromptLeak(), dlg(SEEKER, reply)) == expected


def test_score_threshold(dlg):
    f = ScoreThreshold("empathy", 2.0)
    assert f.name == "min_empathy"
    assert reason(f, dlg(SEEKER, SUPPORTER, scores={"empathy": 2.5})) is None
    assert reason(f, dlg(SEEKER, SUPPORTER, scores={"empathy": 1.0})) == "below_threshold"
    assert reason(f, dlg(SEEKER, SUPPORTER)) == "missing_score"
