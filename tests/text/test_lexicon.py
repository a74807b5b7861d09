"""EPITOME levels of the cue lexicon on hand-written replies: shared experience, encouragement, and which questions
explore."""

from __future__ import annotations

import random

import pytest

from distill.text import lexicon
from distill.text.lexicon import acknowledges, epitome_levels


@pytest.mark.parametrize(
    "reply",
    [
        "Me too, my first year away from home was the loneliest I've ever felt.",
        "I’ve been there. After my divorce I couldn’t sleep for months.",  # typographic apostrophes
        "When I was in college I used to panic before every exam.",
        "Same here, I get that too, all the time.",
        "我也经历过类似的事情。",
    ],
)
def test_a_similar_experience_of_ones_own_is_a_strong_interpretation(reply):
    assert epitome_levels(reply)[1] == 2
    assert acknowledges(reply)


@pytest.mark.parametrize(
    ("reply", "ip"),
    [
        ("I understand.", 1),  # generic understanding stays weak
        ("Stay strong, my friend.", 0),  # "my friend" addresses the seeker; it tells nothing of the responder
        ("I'm afraid I don't know much about that medication.", 0),
        ("Try going for a walk every morning.", 0),
    ],
)
def test_first_person_words_alone_are_not_an_interpretation(reply, ip):
    assert epitome_levels(reply)[1] == ip


@pytest.mark.parametrize(
    ("reply", "er"),
    [
        ("I'm so sorry you lost your job.", 2),
        ("Hang in there, things will get better.", 1),
        ("You're not alone in this.", 1),
        ("Feel free to message me if you want to chat.", 1),
        ("That really sucks.", 1),
        ("It sucks when the bus is late.", 0),  # a remark about the world, not a reaction to the seeker
        ("加油！", 1),
    ],
)
def test_emotional_reactions(reply, er):
    assert epitome_levels(reply)[0] == er


@pytest.mark.parametrize(
    ("reply", "ex"),
    [
        ("What happened?", 1),  # EPITOME's example of a generic (weak) exploration
        ("Tell me more.", 1),
        ("Maybe you could try journaling?", 1),  # a suggestion with a question mark
        ("It's hard to start, you know?", 1),  # a tag question
        ("Have you told anyone at school how you feel?", 2),
        ("What is making you feel so stuck right now?", 2),
        ("Am I the only one who feels this way?", 0),  # a question about oneself explores nothing of the seeker
        ("I know why people say that.", 0),  # a question word without a question
    ],
)
def test_explorations_are_questions_to_the_seeker(reply, ex):
    assert epitome_levels(reply)[2] == ex


def test_plain_advice_and_a_bare_referral_still_acknowledge_nothing():
    # the filters drop advice dumps and crisis replies that acknowledge no feeling; the wider lexicon must not hide them
    assert not acknowledges("You should call her today. Try to apologize first. Make sure you listen.")
    assert not acknowledges("Please call a crisis hotline.")


WORDS = (
    "i i've i’ve ive i'm im you you're your u so sorry hang in there me too same here boat been there when was used to "
    "myself "
    "my therapist friend for me helped felt still always can't sleep not alone pm message want to talk tell more what "
    "how why "
    "do did have are maybe could know right happened making feel hope good luck sucks that it ? ? . , ! ’ 我也 加油 你 "
    "好吗 "
    "？"
).split()


def test_the_level_cues_agree_with_re_on_their_own_words():
    # RE2 decides the cues in one pass; every new pattern (clause-anchored questions, curly apostrophes) must mean the
    # same
    levels = {"er_strong": lexicon.ER_STRONG, "er_weak": lexicon.ER_WEAK, "ip_strong": lexicon.IP_STRONG,
              "ip_weak": lexicon.IP_WEAK, "ex_strong": lexicon.EX_STRONG, "ex_weak": lexicon.EX_WEAK}  # fmt: skip
    rng = random.Random(3)
    hits = 0
    for _ in range(3000):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40)))
        expected = {name for name, rx in levels.items() if rx.search(text)}
        assert lexicon.cues(text) & levels.keys() == expected, text
        hits += len(expected)
    assert hits > 3000  # the word soup really exercises the cues
