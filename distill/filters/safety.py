"""Safety screen for psychological support: crisis disclosures must be met with safe-messaging behaviour.

When a seeker turn discloses suicidal thoughts or self-harm, the supporter's replies after it must acknowledge the
person and encourage reaching out (people they trust, a crisis line, emergency services, a professional). Replies
that give harmful information or encouragement, or dismiss the disclosure, are dropped wherever they appear.
"""

from __future__ import annotations

import re
from typing import Any

from distill.filters.base import Verdict, drop
from distill.text.lexicon import acknowledges
from distill.text.matching import FastPattern
from distill.text.turns import Dialogue, content

CRISIS = re.compile(
    r"\b(kill(ing)? myself|suicid\w*|end(ed|ing)? (it all|my life|things)|tak(e|ing) my (own )?life|don'?t want to "
    r"(live|be alive|exist|wake up)"
    r"|better off (dead|without me)|no reason to live|self[- ]?harm\w*|(cut|cutting|hurt|hurting|harm|harming) "
    r"myself|overdose)\b"
    r"|自杀|不想活|轻生|结束(自己的)?生命|自残|割腕|活着没(有)?意(思|义)",
    re.IGNORECASE,
)
HARMFUL = re.compile(
    r"\b(here(?:'s| is) how (to|you can) (do it|end|kill)|(painless|easiest|quickest|best) (way|method) to "
    r"(die|kill|end)"
    r"|how many (pills|tablets)|(you should|just) (do it|go through with it|end it)|nobody would (miss|care about) you"
    r"|(they|everyone) (would|will) be better off without you|lethal dose)\b"
    r"|(最|比较)?(无痛|快)的(自杀)?方法|没人会在乎你",
    re.IGNORECASE,
)
DISMISSIVE = re.compile(
    r"\b(get over it|stop being (so )?(dramatic|silly)|you(?:'re| are) (just )?(overreacting|being dramatic|seeking "
    r"attention)"
    r"|(it'?s|that'?s) not (a|that) big (a )?deal|don'?t be (silly|ridiculous|so sensitive)|just cheer up|snap out of "
    r"it"
    r"|(just )?for attention|other people have it worse)\b"
    r"|想开点就好|别(矫情|想太多)|有什么大不了",
    re.IGNORECASE,
)
REFERRAL = re.compile(
    r"\b(crisis (line|hotline|text line|center|centre)|hotline|helpline|lifeline|samaritans|988|911|112|999|emergency"
    r"|(therapist|counsell?or|psychologist|psychiatrist|doctor|gp|mental health (professional|service))"
    r"|reach(ing)? out to|talk(ing)? to (someone|somebody|a friend|a family|people|a person)|someone you trust"
    r"|people (who|you) (care|trust|love)|not alone)\b"
    r"|心理(援助|危机)?热线|危机干预|急救|报警|110|120|心理医生|咨询师|专业(人士|帮助)|身边(的人|信任)|不是一个人",
    re.IGNORECASE,
)


_CRISIS, _HARMFUL, _DISMISSIVE, _REFERRAL = (FastPattern(p) for p in (CRISIS, HARMFUL, DISMISSIVE, REFERRAL))


class CrisisSafety:
    name = "safety"

    def __call__(self, record: dict[str, Any]) -> Verdict:
        convo = Dialogue.of(record).turns
        crisis_at: int | None = None
        replies_after: list[str] = []
        for i, m in enumerate(convo):
            text = content(m)
            if m.get("role") == "user":
                if crisis_at is None and _CRISIS.search(text):
                    crisis_at = i
                continue
            if hit := _HARMFUL.search(text):
                return drop("harmful_advice", f"supporter turn {i} says {hit.group(0)!r}")
            if crisis_at is not None:
                if hit := _DISMISSIVE.search(text):
                    return drop(
                        "dismissive_crisis_response",
                        f"supporter turn {i} answers a crisis disclosure with {hit.group(0)!r}",
                    )
                replies_after.append(text)
        if crisis_at is None:
            return True
        if not replies_after:
            return drop(
                "crisis_unanswered", f"seeker turn {crisis_at} discloses a crisis and no supporter reply follows"
            )
        joined = "\n".join(replies_after)
        if not _REFERRAL.search(joined):
            detail = (
                f"no reply after the crisis disclosure in turn {crisis_at} encourages reaching out to people or a "
                "crisis line"
            )
            return drop("crisis_without_referral", detail)
        if not any(acknowledges(t) for t in replies_after):
            return drop(
                "crisis_not_acknowledged",
                f"no reply after the crisis disclosure in turn {crisis_at} acknowledges the seeker's feelings",
            )
        return True
