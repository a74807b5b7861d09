"""Rubric files and their one loader: `distill/judging/rubrics/<version>/<name>.txt` for every LLM judge.

The format is the prompt files' (`distill.prompts.templates.parse_template_file`): `#` comment lines, `[section]`
headers, `$field` placeholders (string.Template, so braces in a rubric's JSON example need no escaping). A rubric has
exactly a [system] and a [user] section; only the user one is filled, and only with the fields its judge provides, so a
misspelt placeholder fails when the rubric is loaded instead of reaching the judge as literal text.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from importlib import resources
from string import Template

from distill.errors import ConfigError
from distill.prompts.templates import parse_template_file

SECTIONS = ("system", "user")
_HEADER = re.compile(r"^\[([a-z_]+)\]\s*$")  # the header line parse_template_file recognizes


@dataclass(frozen=True)
class Rubric:
    name: str
    version: str
    system: str
    user: Template

    def messages(self, **fields: str) -> list[dict[str, str]]:
        """The judge's chat: the system section as written, the user section with its $fields filled."""
        user = self.user.safe_substitute(fields)
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def rubric_path(name: str, version: str) -> str:
    return f"distill/judging/rubrics/{version}/{name}.txt"


def load_rubric(name: str, version: str, *, setting: str, fields: Collection[str]) -> Rubric:
    """The packaged rubric `name` of `version`. `setting` names the config field (or option) that chose the version
    and `fields` the placeholders the judge fills; both go into the error when the file is missing or malformed."""
    path = resources.files("distill.judging") / "rubrics" / version / f"{name}.txt"
    if not path.is_file():
        raise ConfigError(f"{setting}={version!r}: no rubric file {rubric_path(name, version)}")
    text = path.read_text(encoding="utf-8")
    return parse_rubric(text, name, version, origin=rubric_path(name, version), setting=setting, fields=fields)


def parse_rubric(text: str, name: str, version: str, *, origin: str, setting: str, fields: Collection[str]) -> Rubric:
    """A rubric from its file's text; every error names `origin` (the file) and `setting`."""
    where = f"{origin} ({setting}={version!r})"
    try:
        sections = parse_template_file(text, origin)
    except ConfigError as exc:
        raise ConfigError(f"{exc} ({setting}={version!r})") from None
    headers = [m.group(1) for line in text.splitlines() if not line.startswith("#") and (m := _HEADER.match(line))]
    if sorted(headers) != sorted(SECTIONS):
        found = ", ".join(f"[{h}]" for h in headers) or "none"
        raise ConfigError(f"{where}: a rubric has exactly one [system] and one [user] section; found {found}")
    for section in SECTIONS:
        if not sections[section].template:
            raise ConfigError(f"{where}: the [{section}] section is empty")
    user = sections["user"]
    unknown = sorted(_placeholders(user) - set(fields))
    if unknown:
        offered = ", ".join(f"${f}" for f in sorted(fields)) or "none"
        raise ConfigError(f"{where}: [user] uses ${unknown[0]}, which this judge does not fill (it fills {offered})")
    return Rubric(name, version, sections["system"].template, user)


def _placeholders(template: Template) -> set[str]:
    """The $names a template uses (Template.get_identifiers is Python 3.11+; the project supports 3.10)."""
    found = set()
    for match in template.pattern.finditer(template.template):
        named = match.group("named") or match.group("braced")
        if named:
            found.add(named)
    return found
