"""Heuristic quality filters for teacher dialogues: structure, length, language, boilerplate, advice-dumping,
repetition, leaks.

Each filter is a small class with `name` and `__call__(record) -> True | drop(reason, detail)`; reasons are snake_case
and
the detail names the turn, so a reject row says exactly what was wrong.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from distill.filters.base import Verdict, drop
from distill.messages import MessageRules, first_problem
from distill.text.lexicon import acknowledges, advice_count
from distill.text.matching import FastPattern
from distill.text.normalize import normalize_text, sentences
from distill.text.turns import Dialogue, content


class RoleOrder:
    """Seeker first, then strict alternation; a system prompt may only lead (the shared message check,
    `distill.messages`; empty turns are left to `TurnLength`)."""

    name = "role_order"
    rules = MessageRules(empty_turns="allow", seeker_first=True)

    def __call__(self, record: dict[str, Any]) -> Verdict:
        problem = first_problem(Dialogue.of(record).messages, self.rules)
        return True if problem is None else drop(problem.reason, problem.detail)


class TurnCount:
    name = "turn_count"

    def __init__(self, min_turns: int, max_turns: int) -> None:
        self.min_turns, self.max_turns = min_turns, max_turns

    def __call__(self, record: dict[str, Any]) -> Verdict:
        n = len(Dialogue.of(record).turns)
        if n < self.min_turns:
            return drop("too_few_turns", f"{n} turns, at least {self.min_turns} required")
        if n > self.max_turns:
            return drop("too_many_turns", f"{n} turns, at most {self.max_turns} allowed")
        return True


class TurnLength:
    name = "turn_length"

    def __init__(self, min_chars: int, max_chars: int) -> None:
        self.min_chars, self.max_chars = min_chars, max_chars

    def __call__(self, record: dict[str, Any]) -> Verdict:
        for i, m in enumerate(Dialogue.of(record).turns):
            n = len(content(m).strip())
            if n < self.min_chars:
                return drop(
                    "turn_too_short", f"turn {i} ({m['role']}) has {n} characters, at least {self.min_chars} required"
                )
            if n > self.max_chars:
                return drop(
                    "turn_too_long", f"turn {i} ({m['role']}) has {n} characters, at most {self.max_chars} allowed"
                )
        return True


class Truncated:
    """The teacher hit max_tokens: the last turn is cut mid-sentence."""

    name = "truncated"

    def __call__(self, record: dict[str, Any]) -> Verdict:
        if record.get("finish_reason") == "length":
            return drop("truncated", "the teacher stopped at max_tokens (finish_reason=length)")
        return True


class Language:
    """The detected language of the dialogue (py3langid over its text) must be one of `allowed`; empty allows all.
    With `allowed=None` it must be its seed's language (the record's `language`), so Chinese seeds (PsyQA, SoulChat)
    keep Chinese dialogues and English seeds English ones, with no setting to change."""

    name = "language"

    def __init__(self, allowed: list[str] | None) -> None:
        self.allowed = None if allowed is None else {code.lower() for code in allowed}

    def __call__(self, record: dict[str, Any]) -> Verdict:
        allowed = self.allowed
        dialogue = Dialogue.of(record)
        if allowed is None:
            seed_language = dialogue.language
            if not seed_language:
                return True  # no language to follow (the loaders tag every seed; older records may lack it)
            allowed = {seed_language}
        if not allowed:
            return True
        detected = detect_language(language_sample(" ".join(content(m) for m in dialogue.turns)))
        if detected not in allowed:
            why = (
                f"allowed {sorted(allowed)}"
                if self.allowed is not None
                else f"the seed's language is {sorted(allowed)[0]!r}"
            )
            return drop("language_not_allowed", f"detected language {detected!r}, {why}")
        return True


LANGUAGE_SAMPLE_CHARS = 800


def language_sample(text: str) -> str:
    """The opening and the end of a long dialogue: enough for langid (its cost grows with length), and a teacher that
    drifts into another language late in the dialogue is still caught."""
    if len(text) <= LANGUAGE_SAMPLE_CHARS:
        return text
    half = LANGUAGE_SAMPLE_CHARS // 2
    return f"{text[:half]} {text[-half:]}"


def detect_language(text: str) -> str:
    """ISO 639-1 code of `text` (py3langid, an offline model shipped in the package)."""
    import py3langid

    return py3langid.classify(text)[0]


_DISCLAIMER = re.compile(
    r"\bas an? (ai|artificial intelligence|language model|large language model|llm|virtual assistant|chatbot)\b"
    r"|\bi(?:'m| am) (just |only )?(an? )?(ai|language model|chatbot|virtual assistant)\b"
    r"|\bi(?:'m| am) not (a|an) (human|real person)\b|\bmy training data\b|\bknowledge cutoff\b"
    r"|作为(一个)?(ai|人工智能|语言模型|AI助手)|我(只)?是(一个)?(ai|人工智能|语言模型)",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"\bi(?:'m| am) (sorry, but )?(unable|not able) to (help|assist|provide|engage)\b"
    r"|\bi (can't|cannot|won't) (help|assist) (you )?with (that|this)\b|\bi (can't|cannot) (provide|fulfil+|comply)\b"
    r"|\bi(?:'m| am) sorry,? but i (can't|cannot)\b|我(无法|不能)(提供|协助|帮助你)(这|此)",
    re.IGNORECASE,
)


_DISCLAIMER_FAST, _REFUSAL_FAST = FastPattern(_DISCLAIMER), FastPattern(_REFUSAL)


class Boilerplate:
    """AI disclaimers and refusals in a supporter turn: a support dialogue never says 'as an AI' or refuses to
    listen."""

    name = "boilerplate"

    def __call__(self, record: dict[str, Any]) -> Verdict:
        for i, text in enumerate(Dialogue.of(record).supporter_turns):
            if m := _DISCLAIMER_FAST.search(text):
                return drop("ai_disclaimer", f"supporter turn {i} says {m.group(0)!r}")
            if m := _REFUSAL_FAST.search(text):
                return drop("refusal", f"supporter turn {i} refuses: {m.group(0)!r}")
        return True


class AdviceDump:
    """A supporter turn with many directives and no acknowledgement of the feeling: advice before empathy."""

    name = "advice_dump"

    def __init__(self, max_advice_without_ack: int = 3) -> None:
        self.max_advice = max_advice_without_ack

    def __call__(self, record: dict[str, Any]) -> Verdict:
        for i, text in enumerate(Dialogue.of(record).supporter_turns):
            n = advice_count(text)
            if n > self.max_advice and not acknowledges(text):
                return drop(
                    "advice_without_acknowledgement",
                    f"supporter turn {i} gives {n} directives and acknowledges no feeling",
                )
        return True


class RepeatedTurns:
    """The same turn twice (a looping teacher), or one sentence repeated inside a turn."""

    name = "repetition"

    def __init__(self, max_sentence_repeats: int = 2) -> None:
        self.max_sentence_repeats = max_sentence_repeats

    def __call__(self, record: dict[str, Any]) -> Verdict:
        seen: dict[str, int] = {}
        for i, m in enumerate(Dialogue.of(record).turns):
            norm = normalize_text(content(m))
            if norm and norm in seen:
                return drop("repeated_turn", f"turn {i} repeats turn {seen[norm]}")
            seen[norm] = i
            said = [s for s in sentences(content(m)) if len(s.strip()) > 10]
            if len(said) <= self.max_sentence_repeats:  # too few sentences to repeat one too often
                continue
            counts = Counter(normalize_text(s) for s in said)
            if (worst := counts.most_common(1)[0])[1] > self.max_sentence_repeats:
                return drop("repetitive_text", f"turn {i} repeats the sentence {worst[0]!r} {worst[1]} times")
        return True


# Phrases that only occur in our prompt templates or in chat-template markup.
_LEAK = re.compile(
    r"<\|(im_start|im_end|endoftext|eot_id|start_header_id)\|>|\[/?INST\]|<</?SYS>>|^\s*\[(system|user|assistant)\]\s*$"
    r"|\b(seeker|supporter)\s*:|\bcontinue this conversation\b|\bwrite one turn per line\b|\bwrite nothing else\b"
    r"|\bmainly use the strategy\b|\bthe supporter uses these "
    r"strategies\b|\$(transcript|emotion_line|strategies|turns|language|strategy_hint)\b",
    re.IGNORECASE | re.MULTILINE,
)


_LEAK_FAST = FastPattern(_LEAK)


class PromptLeak:
    """Prompt text or chat-template markup inside a turn (the parser let an instruction or a speaker tag through)."""

    name = "prompt_leak"

    def __call__(self, record: dict[str, Any]) -> Verdict:
        for i, m in enumerate(Dialogue.of(record).turns):
            if hit := _LEAK_FAST.search(content(m)):
                return drop("prompt_leak", f"turn {i} contains {hit.group(0).strip()!r}")
        return True


class ScoreThreshold:
    """Keeps records whose scores[score] is at least `minimum` (scorers write scores; this decides)."""

    def __init__(self, score: str, minimum: float) -> None:
        self.score, self.minimum = score, minimum
        self.name = f"min_{score}"

    def __call__(self, record: dict[str, Any]) -> Verdict:
        value = Dialogue.of(record).scores.get(self.score)
        if value is None:
            return drop("missing_score", f"scores[{self.score!r}] was not computed")
        if value < self.minimum:
            return drop("below_threshold", f"scores[{self.score!r}] = {value:.3f} < {self.minimum}")
        return True
