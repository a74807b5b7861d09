"""EPITOME empathy (Sharma et al., EMNLP 2020): labelled data, agreement with people, a trained classifier, judge
labels.

Three mechanisms, each rated 0 (none), 1 (weak) or 2 (strong) for a (seeker post, response) pair. The project ships
code only: the annotations are the user's (their licence is non-commercial research), and so is any model fitted on
them.
"""

from __future__ import annotations

# Long names are the EPITOME files' and the validation JSON's; short ones are the score keys (`epitome_er`, ...).
MECHANISMS = ("emotional_reactions", "interpretations", "explorations")
SHORT = {"emotional_reactions": "er", "interpretations": "ip", "explorations": "ex"}
LEVELS = (0, 1, 2)
FILES = {m: f"{m.replace('_', '-')}-reddit.csv" for m in MECHANISMS}
