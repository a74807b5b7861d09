"""Single-turn psychological Q&A (PsyQA, SoulChat single-turn): a seeker's post and a counsellor's long answer.

Item fields: question (required), description (optional detail of the post), answers (a list of strings
or of {answer_text}) or answer (one string), keywords (optional). The seed is the post as the `user`
turn and the first non-empty answer as the `assistant` turn: the `rewrite` mode spreads it over turns.
"""

from __future__ import annotations

from typing import Any

from distill.seeds.rows import Limits, RowError, check_emotion, check_messages, optional_str, require, seed_row


def _answers(item: dict[str, Any]) -> list[str]:
    if "answers" in item and item["answers"] is not None:
        raw = item["answers"]
        if not isinstance(raw, list):
            raise RowError("wrong_type", f"field 'answers' should be a list, got {type(raw).__name__}", "answers")
        texts = []
        for i, ans in enumerate(raw):
            text = ans.get("answer_text") if isinstance(ans, dict) else ans
            if not isinstance(text, str):
                raise RowError(
                    "wrong_type", f"answers[{i}] should be a string or an object with answer_text", f"answers[{i}]"
                )
            texts.append(text)
        return texts
    if "answer" in item and item["answer"] is not None:
        return [require(item, "answer")]
    raise RowError("missing_field", "required field 'answers' (or 'answer') is missing", "answers")


def psyqa_to_seed(item: dict[str, Any], key: str, source: str, language: str | None, limits: Limits) -> dict[str, Any]:
    question = require(item, "question").strip()
    description = optional_str(item, "description")
    answers = [a.strip() for a in _answers(item)]
    nonempty = [a for a in answers if a]
    if not nonempty:
        raise RowError("empty_turn", "every answer is empty", "answers")
    post = f"{question}\n{description}" if description and description != question else question
    messages, repairs = check_messages(
        [{"role": "user", "content": post}, {"role": "assistant", "content": nonempty[0]}], limits
    )
    keywords = item.get("keywords")
    return seed_row(
        source=source,
        key=str(item.get("questionID") or item.get("id") or key),
        messages=messages,
        language=language or "zh",
        emotion=check_emotion(item.get("emotion")),
        situation=description,
        metadata={"keywords": keywords, "answers_total": len(answers)},
        repairs=repairs,
    )
