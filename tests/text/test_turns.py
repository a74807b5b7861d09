"""The dialogue view: turns without the system prompt, by role, and annotations read from any stored form."""

from __future__ import annotations

from distill.text.turns import Dialogue


def test_a_dialogue_view_reads_what_a_record_may_lack():
    record = {
        "messages": [
            {"role": "system", "content": "be kind"},
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": None},
            {"role": "user", "content": "c"},
            {"role": "assistant", "content": "d"},
        ],
        "scores": [{"name": "empathy", "value": 2.0}],
        "language": "EN",
    }
    d = Dialogue.of(record)
    assert [m["role"] for m in d.turns] == ["user", "assistant", "user", "assistant"]
    assert d.seeker_turns == ["a", "c"] and d.supporter_turns == ["", "d"]
    assert d.response_pairs == [("a", ""), ("c", "d")]
    assert d.scores == {"empathy": 2.0} and d.language == "en"
    assert record["scores"] == [{"name": "empathy", "value": 2.0}]  # a view never rewrites its record
    bare = Dialogue.of({})
    assert bare.messages == bare.turns == [] and bare.scores == {} and bare.strategies == [] and bare.emotion is None
