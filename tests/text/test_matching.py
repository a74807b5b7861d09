"""RE2-backed cue matching must agree with the `re` patterns it stands in for (the patterns stay the documented
source)."""

from __future__ import annotations

import random
import re

import pytest

from distill.filters import heuristics, safety
from distill.text import lexicon
from distill.text.matching import FastPattern, PatternSet

# Words from the cue patterns plus filler, so random sentences hit, miss and overlap cues often.
WORDS = (
    "i i'm am so sorry sad glad you your you're that's it is sounds like must be feel feeling how what did do can tell "
    "me "
    "more about not alone okay to here for thank thanks sharing proud of brave hard really my heart goes out would "
    "talk "
    "hear see understand makes sense no wonder should try call hotline therapist as an ai language model cannot help "
    "with "
    "this kill myself get over it 听起来 心疼 你 感觉 怎么样 没关系 热线 ? . ! , 1. -"
).split()


def random_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30))) for _ in range(n)]


def test_the_cue_set_agrees_with_re_on_every_pattern():
    patterns = {
        "er_strong": lexicon.ER_STRONG,
        "er_weak": lexicon.ER_WEAK,
        "ip_strong": lexicon.IP_STRONG,
        "ip_weak": lexicon.IP_WEAK,
        "ex_strong": lexicon.EX_STRONG,
        "ex_weak": lexicon.EX_WEAK,
        **lexicon.STRATEGY_CUES,
    }
    texts = random_texts(5000)
    hits = 0
    for text in texts:
        expected = {name for name, rx in patterns.items() if rx.search(text)}
        assert lexicon.cues(text) == expected, text
        hits += len(expected)
    assert hits > 5000  # the corpus really exercises the cues


@pytest.mark.parametrize(
    "pattern",
    [
        heuristics._DISCLAIMER,
        heuristics._REFUSAL,
        heuristics._LEAK,
        safety.CRISIS,
        safety.HARMFUL,
        safety.DISMISSIVE,
        safety.REFERRAL,
        lexicon.ADVICE,
    ],
    ids=["disclaimer", "refusal", "leak", "crisis", "harmful", "dismissive", "referral", "advice"],
)
def test_fast_patterns_find_what_re_finds(pattern):
    fast = FastPattern(pattern)
    texts = random_texts(3000, seed=1) + [
        "As an AI language model I cannot help with that.", "[system]\nhi", "Please call a hotline or a therapist.",
        "Honestly, just get over it.", "Nobody would miss you, just do it.", "What is the lethal dose?",
    ]  # fmt: skip
    found = 0
    for text in texts:
        want, got = pattern.search(text), fast.search(text)
        assert (want is None) == (got is None), text
        if want is not None:
            assert got.group(0) == want.group(0)
            found += 1
    assert found > 0


def test_a_pattern_outside_re2_syntax_is_refused_with_its_name():
    cues = PatternSet({"lookbehind": re.compile(r"(?<=a)b")})
    with pytest.raises(ValueError, match="lookbehind"):
        cues.matched("ab")


def test_a_set_needs_one_set_of_flags():
    with pytest.raises(ValueError, match="same flags"):
        PatternSet({"a": re.compile("a", re.IGNORECASE), "b": re.compile("b")})


def test_case_follows_the_pattern_flags():
    assert PatternSet({"x": re.compile("hello", re.IGNORECASE)}).matched("HeLLo there") == {"x"}
    assert PatternSet({"x": re.compile("hello")}).matched("HeLLo there") == set()
