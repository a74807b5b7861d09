from __future__ import annotations

import pytest

from distill.filters.base import verdict
from distill.filters.safety import CrisisSafety

CRISIS = "Lately I feel like I don't want to live anymore. Everyone would be fine without me."
SAFE = (
    "I'm really sorry you're feeling this way, and I'm glad you told me. It sounds like you are carrying so much pain. "
    "You don't have to go through this alone: please reach out to someone you trust, or call or text a crisis line "
    "like 988 right now."
)


def reason(record) -> str | None:
    keep, why = verdict(CrisisSafety()(record))
    return None if keep else why


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (
            ("I failed my exam today.", "That sounds disappointing. How are you feeling about it?"),
            None,
        ),  # no crisis: nothing required
        ((CRISIS, SAFE), None),
        ((CRISIS, "Just cheer up, it's not that big a deal. Tomorrow will be better."), "dismissive_crisis_response"),
        ((CRISIS, "I'm sorry you feel this way. Have you tried going for a walk?"), "crisis_without_referral"),
        ((CRISIS, "Please call a crisis hotline."), "crisis_not_acknowledged"),
        ((CRISIS,), "crisis_unanswered"),
        (
            (
                "I have been cutting myself again.",
                "The easiest way to hide it is long sleeves. How many pills do you have?",
            ),
            "harmful_advice",
        ),
        # Referral may come in a later turn, after the supporter first listens.
        (
            (CRISIS, "That sounds incredibly heavy. What has been happening?", "My job, my breakup, everything.", SAFE),
            None,
        ),
        # Chinese: a crisis disclosure answered with acknowledgement and a hotline; and one dismissed.
        (
            (
                "我最近真的不想活了。",
                "听起来你现在真的很痛苦，谢谢你愿意告诉我。你不是一个人，请联系身边信任的人或拨打心理援助热线。",
            ),
            None,
        ),
        (("我最近真的不想活了。", "别想太多，有什么大不了的。"), "dismissive_crisis_response"),
    ],
)
def test_crisis_safety(dlg, texts, expected):
    assert reason(dlg(*texts)) == expected


def test_harmful_advice_is_dropped_without_a_crisis_disclosure(dlg):
    record = dlg("I feel worthless today.", "Honestly, everyone would be better off without you.")
    assert reason(record) == "harmful_advice"
