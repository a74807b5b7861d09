"""Word patterns shared by the lexical scorers and the filters: EPITOME mechanisms, support strategies, advice.

EPITOME (Sharma et al., 2020) rates a response on three mechanisms, each 0 (none), 1 (weak), 2 (strong):
emotional reactions (warmth, compassion), interpretations (understanding the seeker's feeling/experience)
and explorations (asking about what the seeker has not said). Strong cues are specific; weak cues are generic.
English and Chinese patterns; other languages score 0 here (use the LLM judge or a classifier for them).
"""

from __future__ import annotations

import re
from functools import cache

from distill.textmatch import FastPattern, PatternSet


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# Emotional reactions: weak = generic sympathy; strong = the responder's own specific feeling for the seeker.
ER_STRONG = _rx(
    r"\bmy heart (goes out|breaks|aches)\b", r"\bi(?:'m| am) (so|really|truly|deeply) (sorry|sad|glad|happy|moved)\b",
    r"\bi feel (so |really )?(sad|sorry|for you|moved|touched)\b", r"\bthat breaks my heart\b", r"\bsending you\b",
    r"心疼", r"真的很(难过|抱歉|心疼)", r"我(很|非常)(难过|理解你的心情)",
)
ER_WEAK = _rx(
    r"\b(i'm|i am) sorry\b", r"\bsorry to hear\b", r"\bthat(?:'s| is) (awful|terrible|hard|tough|rough|great|wonderful)\b",
    r"\b(oh no|wow|aw+)\b", r"\bhugs?\b", r"\bglad\b", r"抱歉", r"难过", r"辛苦了", r"抱抱",
    r"\b(that |it )?sounds (so |really |very |incredibly )?(hard|painful|awful|terrible|tough|difficult|rough|scary|frightening|"
    r"frustrating|exhausting|lonely|stressful|heavy|overwhelming|upsetting|wonderful|exciting)\b",
)
# Interpretations: weak = generic "I understand"; strong = naming the specific feeling/experience or sharing a similar one.
IP_STRONG = _rx(
    r"\b(it )?sounds like (you|you're|you are|that|it)\b", r"\bit (seems|must be|must have been|must feel)\b",
    r"\bthat must (be|have been|feel)\b", r"\byou (must|might|may) (be|have been|feel) (feeling )?\w+",
    r"\bi can (imagine|see|tell|hear) (how|that|why)\b", r"\bit makes sense (that|you|to)\b", r"\bno wonder\b",
    r"\bi (went|have been|was) through (something|the same|a similar)\b", r"\byou(?:'re| are) feeling\b",
    r"听起来", r"你(一定|肯定|可能)(很|感到|觉得)", r"我能(感受|理解|想象)到", r"难怪",
)
IP_WEAK = _rx(r"\bi (understand|get it|hear you|see)\b", r"\bi know (how|what)\b", r"\bthat makes sense\b", r"我(理解|明白|懂)")
# Explorations: weak = generic question; strong = a specific question about the seeker's feelings or experience.
EX_STRONG = _rx(
    r"\b(how|what) (do|did|does|are|were|have) you (feel|felt|feeling|think|mean|been)\b",
    r"\bwhat (happened|made|makes|is making|was it like|worries|scares|hurts)\b",
    r"\bcan you (tell|share) (me )?(more|about|what)\b", r"\bwould you like to (talk|share|tell)\b",
    r"\bhow (long|often) have you\b", r"\bwhat (part|aspect) of\b",
    r"你(现在|当时)?(感觉|觉得)(怎么样|如何)", r"(能|可以)(跟我|和我)?(说说|聊聊|讲讲)", r"发生了什么",
)
EX_WEAK = _rx(r"\?", r"？", r"\b(why|what|how)\b")

# The six SoulChat support strategies, as cues in supporter turns.
STRATEGY_CUES: dict[str, re.Pattern[str]] = {
    "questioning": _rx(r"\?", r"？", r"\bcan you tell me\b", r"\bwould you like\b"),
    "comfort": _rx(
        r"\byou(?:'re| are) not alone\b", r"\bit(?:'s| is) (okay|ok|alright|normal|understandable) to\b",
        r"\b(it|things) will (get|be) (better|okay)\b", r"\btake (your|all the) time\b", r"\bbe (gentle|kind|patient) with yourself\b",
        r"\bi(?:'m| am) (here|with you)\b", r"不是一个人", r"没关系", r"会好起来", r"别太(难为|苛责)自己",
    ),
    "recognition": _rx(
        r"\b(your feelings|what you feel|that) (is|are|makes?) (valid|understandable|natural|sense)\b",
        r"\bit takes (courage|strength)\b", r"\byou(?:'ve| have) (done|been) (so |really )?(well|strong|brave)\b",
        r"\b(proud of you|that(?:'s| is) brave)\b", r"\byou(?:'re| are) (clearly |obviously )?(doing|trying) (your best|so much|hard)\b",
        r"你的感受(是)?(很)?(正常|合理)", r"你已经(做得|很努力)", r"很勇敢",
    ),
    "listening": _rx(
        r"\bsounds like\b", r"\bwhat i(?:'m| am) hearing\b", r"\bif i understand (you )?(correctly|right)\b", r"\bso you(?:'re| are| feel)\b",
        r"\bi hear (you|that)\b", r"听起来", r"你的意思是", r"我在听",
    ),
    "trust": _rx(
        r"\b(thank you|thanks) for (sharing|telling|trusting|opening)\b", r"\bi(?:'m| am) glad you (told|shared|reached)\b",
        r"\bsafe (space|place) (to|here)\b", r"\bwithout judg(e)?ment\b", r"谢谢你(愿意)?(告诉|分享|信任)", r"不会评判",
    ),
    "emotional_support": _rx(
        r"\bi(?:'m| am) (here )?(for you|to support you|on your side)\b", r"\byou (deserve|matter)\b", r"\bi believe in you\b",
        r"\bsupport you\b", r"\bcare about you\b", r"我(会)?(一直)?(陪着你|支持你|在这里)", r"你值得",
    ),
}

# Advice sentences: imperatives and "you should"-style directives (the thing SoulChat says LLMs rush into).
ADVICE = _rx(
    r"^\s*(?:\d+[.)]|[-*•])\s+", r"\byou (should|must|need to|have to|ought to)\b", r"^\s*(try|make sure|consider|remember to|stop|avoid|"
    r"don't|do not|go|get|start|focus on|take|set|write|exercise|practice|talk to|seek)\b", r"你(应该|必须|需要|要)", r"^\s*(试着|尝试|建议你)",
)

SENTENCE_SPLIT = re.compile(r"(?<=[.!?。！？])\s*|\n+")


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_SPLIT.split(text) if s and s.strip()]


@cache
def _cues() -> PatternSet:
    """Every EPITOME level cue and strategy cue, matched in one pass per text."""
    levels = {"er_strong": ER_STRONG, "er_weak": ER_WEAK, "ip_strong": IP_STRONG, "ip_weak": IP_WEAK, "ex_strong": EX_STRONG, "ex_weak": EX_WEAK}
    return PatternSet({**levels, **STRATEGY_CUES})


def cues(text: str) -> set[str]:
    """Names of the cues in `text`: `<mechanism>_strong|_weak` (er, ip, ex) and strategy names."""
    return _cues().matched(text)


def _level(found: set[str], mechanism: str) -> int:
    return 2 if f"{mechanism}_strong" in found else 1 if f"{mechanism}_weak" in found else 0


def epitome_levels(text: str) -> tuple[int, int, int]:
    """(emotional reactions, interpretations, explorations), each 0/1/2, for one supporter response."""
    found = cues(text)
    return _level(found, "er"), _level(found, "ip"), _level(found, "ex")


def acknowledges(text: str) -> bool:
    """Whether a reply reacts to or interprets the seeker's feeling at all (EPITOME ER or IP above 0)."""
    er, ip, _ = epitome_levels(text)
    return er > 0 or ip > 0


_ADVICE_FAST = FastPattern(ADVICE)


def advice_count(text: str) -> int:
    return sum(1 for s in sentences(text) if _ADVICE_FAST.search(s))


def strategies_used(text: str) -> set[str]:
    return cues(text) & STRATEGY_CUES.keys()
