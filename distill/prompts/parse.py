"""Pure parsing of a teacher's reply into one dialogue turn, or `ParseError` with a snake_case `code`.

Small models often go on writing the other side's lines ("Supporter: ...") or wrap the reply in role tags and quotes;
the turn is the speaker's own text up to where another turn starts.
"""

from __future__ import annotations

import re

# Role tags a teacher may write: ours, the OpenAI roles, counseling corpora's, and Chinese (PsyQA/SoulChat) ones.
_USER_TAGS = ("seeker", "help-seeker", "help seeker", "user", "client", "person", "求助者", "来访者", "用户")
_ASSISTANT_TAGS = ("supporter", "assistant", "counselor", "counsellor", "listener", "helper", "支持者", "咨询师", "倾听者")
_TAG_TO_ROLE = {**{t: "user" for t in _USER_TAGS}, **{t: "assistant" for t in _ASSISTANT_TAGS}}
_TAG = re.compile(
    r"^\s*(?:[-*>]\s*)?(?:\*\*|__)?(?:the\s+)?("
    + "|".join(re.escape(t) for t in sorted(_TAG_TO_ROLE, key=len, reverse=True))
    + r")(?:\s*\d+)?(?:\*\*|__)?\s*[:：](?:\*\*|__)?\s*",
    re.IGNORECASE,
)
# Chat-template end tokens a raw completion may carry.
_END_MARKERS = re.compile(r"<\|im_end\|>|<\|endoftext\|>|</s>|<\|eot_id\|>|<\|im_start\|>", re.IGNORECASE)
_QUOTES = "\"'“”‘’「」"


class ParseError(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def role_tag(line: str) -> tuple[str, str] | None:
    """(role, rest of the line) when `line` opens with a role tag such as 'Seeker:'."""
    match = _TAG.match(line)
    if not match:
        return None
    return _TAG_TO_ROLE[match.group(1).lower()], line[match.end() :]


def parse_turn(text: str | None, role: str, *, min_chars: int = 2) -> str:
    """The utterance of `role` in `text`: a leading own tag is dropped; text stops at the next tagged line."""
    if text is None:
        raise ParseError("empty_output", "the teacher returned no text")
    text = _END_MARKERS.split(text, maxsplit=1)[0]
    kept: list[str] = []
    for i, line in enumerate(text.strip().splitlines()):
        tagged = role_tag(line)
        if tagged is not None:
            if i == 0 and tagged[0] == role:
                line = tagged[1]
            else:
                break  # the model started writing another turn
        kept.append(line.rstrip())
    turn = "\n".join(kept).strip()
    if len(turn) >= 2 and turn[0] in _QUOTES and turn[-1] in _QUOTES:
        turn = turn[1:-1].strip()
    if not turn:
        raise ParseError("empty_turn", f"no {role} text before another speaker's tag" if text.strip() else "the reply is empty")
    if len(turn) < min_chars:
        raise ParseError("too_short", f"{len(turn)} characters, need at least {min_chars}")
    return turn


# Latin sentence ends need a following space (so "3.5" or "e.g" do not end one); CJK ends do not.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)|[。！？][”’」]*")


def trim_to_sentence(text: str, *, min_chars: int = 10) -> str:
    """A reply cut off by max_tokens, back to its last complete sentence; ParseError when too little is left."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    kept = text[: ends[-1]].strip() if ends else ""
    if len(kept) < min_chars:
        raise ParseError("truncated", f"cut off by max_tokens with {len(kept)} characters of complete sentences")
    return kept
