"""Word patterns shared by the lexical scorers and the filters: EPITOME mechanisms, support strategies, advice.

EPITOME (Sharma et al., 2020) rates a response on three mechanisms, each 0 (none), 1 (weak), 2 (strong):
emotional reactions (warmth, compassion), interpretations (understanding the seeker's feeling/experience)
and explorations (asking about what the seeker has not said). Strong cues are specific; weak cues are generic.
English and Chinese patterns; other languages score 0 here (use the LLM judge or a classifier for them).
"""

from __future__ import annotations

import re
from functools import cache

from distill.text.matching import FastPattern, PatternSet
from distill.text.normalize import sentences


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# Hand-written cues following EPITOME's definitions, tuned by reading scoring errors on cross-validation folds of the
# EPITOME Reddit annotations (non-commercial licence: no text, phrase table or weight from that data is in this file).
# Emotional reactions: weak = generic warmth, hope, encouragement, an offer to listen ("Everything will be fine");
# strong = the responder names their own feeling for the seeker ("I'm so sorry", "my heart goes out to you").
ER_STRONG = _rx(
    r"\bmy heart (goes out|breaks|aches)\b",
    r"\bthat breaks my heart\b",
    r"\bsending you\b",
    r"\bi(?:['’]?m| am) (so |really |truly |deeply |very )?sorry\b",
    r"\b(so|really|truly|deeply) sorry\b",
    r"\bsorry (to hear|to read|for (your|you|what)|about (your|that|what)|that you|you)\b",
    r"\bi(?:['’]?m| am) (so|really|truly|deeply) (sad|glad|happy|moved)\b",
    r"\bi(?:['’]?m| am) (so |really |very )?(happy|glad|proud) (for you|of you|that|to hear)\b",
    r"\bi feel (so |really )?(sad|sorry|bad|for you|moved|touched)\b",
    r"心疼",
    r"真的很(难过|抱歉|心疼)",
    r"我(很|非常)(难过|理解你的心情)",
)
ER_WEAK = _rx(
    r"\bsorry\b",
    r"\b(oh no|wow|aw+)\b",
    r"\bhugs?\b",
    r"\bglad\b",
    r"\bcongrat",
    r"\bi care\b",
    r"\bproud of you\b",
    r"\bthat(?:['’]?s| is) (awful|terrible|horrible|hard|tough|rough|sad|great|wonderful)\b",
    r"\b(that|this) (really |totally )?sucks\b",
    r"\bthat['’]?s (so |really )?(awesome|amazing|great|good|cool)\b",
    r"\b(that |it )?sounds (so |really |very |incredibly "
    r")?(hard|painful|awful|terrible|tough|difficult|rough|scary|frightening|"
    r"frustrating|exhausting|lonely|stressful|heavy|overwhelming|upsetting|wonderful|exciting)\b",
    # hope and encouragement
    r"\bhang in there\b",
    r"\bstay strong\b",
    r"\b(head|chin) up\b",
    r"\b(good|best of) luck\b",
    r"\bwish you\b",
    r"\bhopefully\b",
    r"\bi (really |sincerely |truly )?hope\b",
    r"\bi wish (you|things|it|everything|that)\b",
    r"\bhope (you|things|it|everything) (get|gets|is|are|will|work|turn|feel)",
    r"\b(things|it|life) (will|can|does|do|gets?|is going to) (get |be )?better\b",
    r"\byou(?:['’]?ll| will| are| are going to|['’]?re going to|['’]?re gonna) be (ok|okay|fine|alright|all right)\b",
    r"\b(it['’]?s|its|that['’]?s) (ok|okay|alright|normal)\b",
    r"\byou(?:['’]?ve| have)? got this\b",
    r"\b(you|u) (can|could|will) (do|get through|make|beat|overcome) (it|this)\b",
    r"\bkeep (fighting|going|it up|pushing)\b",
    r"\b(never|don['’]?t|do not) give up\b",
    r"\bi believe in you\b",
    r"\bbelieve in yourself\b",
    r"\bsending (love|hugs|positive|good)",
    r"\byou did (the right thing|great|well|so well)\b",
    r"\byou (deserve|are worth|matter)\b",
    # reassurance: "you're not alone", "you're not crazy", "you are strong"
    r"\bnot alone\b",
    r"\byou(?:['’]?re| are|re) (a |so |really |very )?(strong|stronger|good|great|smart|special|valid|important|worth "
    r"it|worthy|loved|"
    r"beautiful|amazing|awesome|brave|valued)\b",
    r"\byou(?:['’]?re| are|re)? (not|aren['’]?t) (alone|crazy|useless|a loser|a failure|worthless|broken|weak|stupid|a "
    r"burden|"
    r"the problem|the only)\b",
    # felt solidarity and offers to listen: "I feel you", "PM me", "if you want to talk"
    r"\bi feel (ya|you)\b",
    r"\bi know (how you feel|what you mean|exactly how|(this|that|the) feel(ing)?)\b",
    r"\bi (can )?relate\b",
    r"\bhere for you\b",
    r"\bi(?:['’]?m| am) (listening|here|with you)\b",
    r"\b(pm|dm|message|write|text|inbox) me\b",
    r"\b(feel free to|you can( always)?) (message|pm|dm|talk to me|chat|reach out)\b",
    r"\b(want|wanna|like|need) to (talk|chat|vent)\b",
    r"\bsomeone to (talk|listen|chat|vent)",
    r"抱歉",
    r"难过",
    r"辛苦了",
    r"抱抱",
    r"加油",
)
# Interpretations: weak = generic "I understand"; strong = naming the seeker's specific feeling or experience ("that
# must be exhausting"), or conveying understanding by a similar experience of one's own, which is how peer supporters
# mostly do it ("me too", "I've been there", "when I was in school I...", "I used to feel the same").
IP_STRONG = _rx(
    r"\b(it )?sounds like (you|you're|you are|that|it)\b",
    r"\bit (must be|must have been|must feel)\b",
    r"\bit seems (like |as if |that )?(you|your)\b",
    r"\bthat must (be|have been|feel)\b",
    r"\byou must (be|have been|feel) (feeling )?\w+",
    r"\bi can (imagine|see|tell|hear) (how|that|why)\b",
    r"\bit makes sense (that|you|to)\b",
    r"\bno wonder\b",
    # a similar experience: said outright ...
    r"\bme too\b",
    r"\bsame here\b",
    r"\b(the )?same (boat|situation|thing|way|here|problem|issue|feeling)\b",
    r"\bi (can )?relate\b",
    r"\bbeen there\b",
    r"\bi (went|have been|was) through (something|the same|a similar)\b",
    r"\bi (have|had|get|got|feel|felt|do|did) (the same|similar|that|this|it) "
    r"(too|as well|also|a lot|all the time|often|sometimes|every)\b",
    r"\bi (have|had|get|feel|felt|do|think) (the same|similar|that way|this way|like this|exactly)\b",
    # ... or told: the responder's own past, habits and state
    r"\bi(?:['’]?ve| have) "
    r"(been|had|felt|gone|struggled|dealt|suffered|tried|lost|experienced|battled|fought|done|always|never)\b",
    r"\bi (was|had|used "
    r"to|went|felt|got|tried|did|struggled|suffered|dealt|lost|remember|spent|started|stopped|took|found|grew|quit|"
    r"ended up|also|too|still|often|sometimes|usually|always|never|tend to|struggle|suffer|deal)\b",
    r"\bi (have|had|get) "
    r"(depression|anxiety|panic|ptsd|bpd|adhd|ocd|bipolar|insomnia|nightmares|days|times|moments|those)\b",
    r"\bi(?:['’]?m| am) (also|too|currently|still|on|in the same|going through|dealing|struggling|the same)\b",
    r"\bi(?:['’]?m| am) (so |really |very |just |pretty |also |too "
    r")?(tired|depressed|lonely|alone|sad|scared|anxious|useless|"
    r"exhausted|stuck|lost|miserable|numb|broken)\b",
    r"\bi (can['’]?t|cant|couldn['’]?t|don['’]?t|dont|didn['’]?t) (sleep|stop|find|feel|even|remember|bring|stand)\b",
    r"\bwhen i\b",
    r"\bmyself\b",
    r"\b(for|helped|happened to|helps|worked for|works for) me\b",
    r"\bmy (own )?(experience|depression|anxiety|therapist|doctor|meds|medication|life|job|family|parents|"
    r"mom|mum|dad|mother|father|brother|sister|friends|ex|wife|husband|girlfriend|boyfriend)\b",
    r"听起来",
    r"你(一定|肯定|可能)(很|感到|觉得)",
    r"我能(感受|理解|想象)到",
    r"难怪",
    r"我(也|曾经|以前)",
)
IP_WEAK = _rx(
    r"\bi (understand|get it|hear you|see)\b", r"\bi know (how|what)\b", r"\bthat makes sense\b", r"我(理解|明白|懂)"
)
# Explorations: weak = a generic question ("What happened?", "Tell me more"); strong = a question to the seeker about
# their feelings, experience or situation: its clause opens with a question word or an auxiliary and it is about
# "you" ("Do you have anyone to talk to?", "What is making you so upset?"). Tag questions ("..., you know?") and
# suggestions ("Maybe you could try X?") are at most weak; a question about oneself ("Am I the only one?") is none.
_CLAUSE = r"(?:^|[.!?;:,)\n]\s*|\b(?:and|but|so|or|also|then|well|ok|okay|hey|hi|yeah|just|now)\s+)"
_ASKS = (
    r"(?:do|did|does|have|has|had|are|were|is|was|can|could|would|will|"
    r"what|why|how|when|where|who|which|any|anyone|anything|r)"
)
_YOU = r"(?:you|your|yours|yourself|you['’]?re|you['’]?ve|you['’]?d|u|ur)"
EX_STRONG = _rx(
    _CLAUSE + _ASKS + r"\b[^.!?\n]*\b" + _YOU + r"\b[^.!?\n]*\?",
    r"\b(how|what) (do|did|does|are|were|have) you (feel|felt|feeling|think|mean|been)\b",
    r"\bwhat (made|makes|is making|was it like|worries|scares|hurts)\b[^.!?\n]*\?",
    r"\bcan you (tell|share) (me )?(more|about|what)\b",
    r"\bhow (long|often) have you\b",
    r"\bwhat (part|aspect) of\b",
    r"你(现在|当时)?(感觉|觉得)(怎么样|如何)",
    r"(能|可以)(跟我|和我)?(说说|聊聊|讲讲)",
    r"你[^。！？\n]*？",
)
EX_WEAK = _rx(
    _CLAUSE + _ASKS + r"\b[^.!?\n]*\?", r"\b" + _YOU + r"\b[^.!?\n]*\?", r"\btell (me|us) (more|about|what)\b", r"？"
)

# The six SoulChat support strategies, as cues in supporter turns.
STRATEGY_CUES: dict[str, re.Pattern[str]] = {
    "questioning": _rx(r"\?", r"？", r"\bcan you tell me\b", r"\bwould you like\b"),
    "comfort": _rx(
        r"\byou(?:'re| are) not alone\b",
        r"\bit(?:'s| is) (okay|ok|alright|normal|understandable) to\b",
        r"\b(it|things) will (get|be) (better|okay)\b",
        r"\btake (your|all the) time\b",
        r"\bbe (gentle|kind|patient) with yourself\b",
        r"\bi(?:'m| am) (here|with you)\b",
        r"不是一个人",
        r"没关系",
        r"会好起来",
        r"别太(难为|苛责)自己",
    ),
    "recognition": _rx(
        r"\b(your feelings|what you feel|that) (is|are|makes?) (valid|understandable|natural|sense)\b",
        r"\bit takes (courage|strength)\b",
        r"\byou(?:'ve| have) (done|been) (so |really )?(well|strong|brave)\b",
        r"\b(proud of you|that(?:'s| is) brave)\b",
        r"\byou(?:'re| are) (clearly |obviously )?(doing|trying) (your best|so much|hard)\b",
        r"你的感受(是)?(很)?(正常|合理)",
        r"你已经(做得|很努力)",
        r"很勇敢",
    ),
    "listening": _rx(
        r"\bsounds like\b",
        r"\bwhat i(?:'m| am) hearing\b",
        r"\bif i understand (you )?(correctly|right)\b",
        r"\bso you(?:'re| are| feel)\b",
        r"\bi hear (you|that)\b",
        r"听起来",
        r"你的意思是",
        r"我在听",
    ),
    "trust": _rx(
        r"\b(thank you|thanks) for (sharing|telling|trusting|opening)\b",
        r"\bi(?:'m| am) glad you (told|shared|reached)\b",
        r"\bsafe (space|place) (to|here)\b",
        r"\bwithout judg(e)?ment\b",
        r"谢谢你(愿意)?(告诉|分享|信任)",
        r"不会评判",
    ),
    "emotional_support": _rx(
        r"\bi(?:'m| am) (here )?(for you|to support you|on your side)\b",
        r"\byou (deserve|matter)\b",
        r"\bi believe in you\b",
        r"\bsupport you\b",
        r"\bcare about you\b",
        r"我(会)?(一直)?(陪着你|支持你|在这里)",
        r"你值得",
    ),
}

# Advice sentences: imperatives and "you should"-style directives (the thing SoulChat says LLMs rush into).
ADVICE = _rx(
    r"^\s*(?:\d+[.)]|[-*•])\s+",
    r"\byou (should|must|need to|have to|ought to)\b",
    r"^\s*(try|make sure|consider|remember to|stop|avoid|"
    r"don't|do not|go|get|start|focus on|take|set|write|exercise|practice|talk to|seek)\b",
    r"你(应该|必须|需要|要)",
    r"^\s*(试着|尝试|建议你)",
)


@cache
def _cues() -> PatternSet:
    """Every EPITOME level cue and strategy cue, matched in one pass per text."""
    levels = {
        "er_strong": ER_STRONG,
        "er_weak": ER_WEAK,
        "ip_strong": IP_STRONG,
        "ip_weak": IP_WEAK,
        "ex_strong": EX_STRONG,
        "ex_weak": EX_WEAK,
    }
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
