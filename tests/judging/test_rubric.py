"""The one rubric loader: every packaged rubric loads for its judge, and a malformed one fails naming file and field."""

from __future__ import annotations

import pytest

from distill.epitome.judge import load_epitome_rubric
from distill.errors import ConfigError
from distill.evaluate.judge import RUBRICS, load_eval_rubric
from distill.judging.rubric import load_rubric, parse_rubric
from distill.scorers.llm_judge import load_empathy_rubric

GOOD = "# a comment\n[system]\nYou rate.\n[user]\nRate $transcript, please.\n"


def test_every_judge_loads_its_packaged_rubrics():
    rubrics = [load_empathy_rubric("v1"), load_epitome_rubric("v1"), *(load_eval_rubric(n, "v1") for n in RUBRICS)]
    assert [r.name for r in rubrics] == ["empathy_judge", "epitome", *RUBRICS]
    for rubric in rubrics:
        assert rubric.version == "v1" and rubric.system and rubric.user.template
        assert not rubric.system.startswith("#") and "[user]" not in rubric.system


def test_messages_fill_the_user_section_only():
    rubric = parse_rubric(GOOD, "r", "v1", origin="r.txt", setting="x.rubric", fields=("transcript",))
    assert rubric.messages(transcript="Seeker: hi") == [
        {"role": "system", "content": "You rate."},
        {"role": "user", "content": "Rate Seeker: hi, please."},
    ]


def test_a_missing_version_names_the_setting_and_the_file():
    with pytest.raises(ConfigError) as info:
        load_rubric("cehs", "v404", setting="eval.rubric_version", fields=())
    assert str(info.value) == "eval.rubric_version='v404': no rubric file distill/judging/rubrics/v404/cehs.txt"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[system]\nYou rate.\n", "exactly one [system] and one [user] section; found [system]"),
        ("[system]\nYou rate.\n[user]\nA\n[notes]\nB\n", "found [system], [user], [notes]"),
        ("[system]\nYou rate.\n[user]\nA\n[user]\nB\n", "found [system], [user], [user]"),
        ("Rate this.\n[system]\nYou rate.\n[user]\nA\n", "bad.txt:1: text before the first [section] header"),
        ("[system]\n\n[user]\nRate $transcript.\n", "the [system] section is empty"),
        ("[system]\nYou rate.\n[user]\nRate $transcipt.\n", "[user] uses $transcipt, which this judge does not fill"),
        ("[system]\nYou rate.\n[user]\nRate ${emotion}.\n", "[user] uses $emotion"),
    ],
)
def test_a_malformed_rubric_fails_naming_the_file_and_the_field(text, says):
    with pytest.raises(ConfigError) as info:
        parse_rubric(text, "bad", "v7", origin="bad.txt", setting="curate.judge_rubric", fields=("transcript",))
    message = str(info.value)
    assert says in message and "bad.txt" in message and "curate.judge_rubric='v7'" in message


def test_dollars_that_are_not_placeholders_pass():
    text = "[system]\nCosts $$5.\n[user]\n$transcript ($$0)\n"
    rubric = parse_rubric(text, "r", "v1", origin="r.txt", setting="s", fields=("transcript",))
    assert rubric.messages(transcript="T")[1]["content"] == "T ($0)"
