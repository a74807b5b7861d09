"""Prompt files: `distill/prompts/<version>/<name>.txt`, split into `[section]`s, `$field` placeholders, `#` comment
lines.

`$field` (string.Template) instead of `{field}` so braces in seed text or prompts never break rendering.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from string import Template

from distill.errors import ConfigError

_SECTION = re.compile(r"^\[([a-z_]+)\]\s*$")


def parse_template_file(text: str, origin: str) -> dict[str, Template]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            continue
        head = _SECTION.match(line)
        if head:
            current = sections.setdefault(head.group(1), [])
        elif current is None:
            if line.strip():
                raise ConfigError(f"{origin}:{number}: text before the first [section] header")
        else:
            current.append(line)
    return {name: Template("\n".join(lines).strip()) for name, lines in sections.items()}


@lru_cache(maxsize=64)
def load_template(version: str, name: str) -> dict[str, Template]:
    """The sections of prompt file `name` in prompt `version` (cached: files are read once per process)."""
    path = resources.files("distill.prompts") / version / f"{name}.txt"
    if not path.is_file():
        raise ConfigError(
            f"prompt file {version}/{name}.txt not found in distill/prompts (generate.prompt_version={version!r})"
        )
    return parse_template_file(path.read_text(encoding="utf-8"), f"distill/prompts/{version}/{name}.txt")


def fill(template: Template, origin: str, **fields: object) -> str:
    try:
        return template.substitute({k: str(v) for k, v in fields.items()})
    except KeyError as exc:
        raise ConfigError(f"prompt {origin} uses ${exc.args[0]}, which the renderer does not provide") from None
