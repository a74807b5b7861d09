from __future__ import annotations

from distill.judging.transcript import render_transcript


def test_seeker_and_supporter_lines_without_system_or_edge_whitespace():
    messages = [
        {"role": "system", "content": "You are kind."},
        {"role": "user", "content": "  My dog died.\n"},
        {"role": "assistant", "content": "I'm so sorry."},
        {"role": "user", "content": None},
    ]
    assert render_transcript(messages) == "Seeker: My dog died.\nSupporter: I'm so sorry.\nSeeker: "
    assert render_transcript([]) == ""
