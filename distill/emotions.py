"""The 32 EmpatheticDialogues emotion labels, their polarity, and a Plutchik-style opposite for each.

The opposite map grounds EmPO preference pairs: a response written for the opposite emotion is the
"rejected" side. Every label maps to a label of the other polarity, chosen along Plutchik's axes
(joy/sadness, trust/disgust, fear/anger, surprise/anticipation).
"""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = (
    "afraid", "angry", "annoyed", "anticipating", "anxious", "apprehensive", "ashamed", "caring",
    "confident", "content", "devastated", "disappointed", "disgusted", "embarrassed", "excited", "faithful",
    "furious", "grateful", "guilty", "hopeful", "impressed", "jealous", "joyful", "lonely",
    "nostalgic", "prepared", "proud", "sad", "sentimental", "surprised", "terrified", "trusting",
)  # fmt: skip

POSITIVE: frozenset[str] = frozenset(
    {"anticipating", "caring", "confident", "content", "excited", "faithful", "grateful", "hopeful",
     "impressed", "joyful", "nostalgic", "prepared", "proud", "sentimental", "surprised", "trusting"}
)  # fmt: skip
NEGATIVE: frozenset[str] = frozenset(EMOTIONS) - POSITIVE

OPPOSITE: dict[str, str] = {
    # joy <-> sadness
    "joyful": "sad", "sad": "joyful",
    "content": "devastated", "devastated": "content",
    "proud": "ashamed", "ashamed": "proud",
    "excited": "disappointed", "disappointed": "excited",
    "grateful": "jealous", "jealous": "grateful",
    "hopeful": "lonely", "lonely": "hopeful",
    # trust <-> disgust
    "trusting": "disgusted", "disgusted": "trusting",
    "faithful": "guilty", "guilty": "faithful",
    "caring": "annoyed", "annoyed": "caring",
    # fear <-> anger is same-polarity, so fear pairs with confidence and anger with calm readiness
    "confident": "afraid", "afraid": "confident",
    "prepared": "apprehensive", "apprehensive": "prepared",
    "impressed": "embarrassed", "embarrassed": "impressed",
    "sentimental": "furious", "furious": "sentimental",
    "nostalgic": "anxious", "anxious": "nostalgic",
    # surprise <-> anticipation, crossed with polarity
    "surprised": "terrified", "terrified": "surprised",
    "anticipating": "angry", "angry": "anticipating",
}  # fmt: skip

# Labels of other corpora (ESConv emotion_type, common synonyms) folded onto the 32 labels.
ALIASES: dict[str, str] = {
    "anxiety": "anxious", "nervousness": "apprehensive", "nervous": "apprehensive",
    "depression": "sad", "sadness": "sad", "anger": "angry", "fear": "afraid", "scared": "afraid",
    "shame": "ashamed", "guilt": "guilty", "disgust": "disgusted", "jealousy": "jealous",
    "pain": "devastated", "loneliness": "lonely", "joy": "joyful", "happy": "joyful",
    "trust": "trusting", "hope": "hopeful", "pride": "proud", "gratitude": "grateful",
}  # fmt: skip


def normalize_emotion(label: str) -> str | None:
    """Return the canonical ED label for `label`, or None if it is not one of the 32 (or a known alias)."""
    key = label.strip().lower()
    if key in OPPOSITE:
        return key
    return ALIASES.get(key)


def polarity(emotion: str) -> str:
    return "positive" if emotion in POSITIVE else "negative"
