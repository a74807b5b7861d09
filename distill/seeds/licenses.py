"""Licence lineage: every seed carries its source's licence, and every record made from it carries it on.

A source declares its licence (`license:` on the seed source, an SPDX id), or the loader knows it for the published
corpora it reads. Records combined from several seeds (a preference pair whose rejected reply comes from another
dialogue) carry an SPDX `AND` expression of their parts.
"""

from __future__ import annotations

from collections.abc import Iterable

UNKNOWN = "unknown"
PROJECT_LICENSE = "Apache-2.0"  # the bundled seed set is the project's own writing, under the project's licence
# The published corpora the loaders read, as their authors released them.
KNOWN_BY_FORMAT = {
    "empathetic_dialogues": "CC-BY-NC-4.0",  # Rashkin et al. 2019, facebookresearch/EmpatheticDialogues
    "esconv": "CC-BY-NC-4.0",  # Liu et al. 2021, thu-coai/Emotional-Support-Conversation
}


def source_license(declared: str | None, fmt: str, bundled: bool) -> str:
    if declared:
        return declared.strip()
    if bundled:
        return PROJECT_LICENSE
    return KNOWN_BY_FORMAT.get(fmt, UNKNOWN)


def combine(licenses: Iterable[str | None]) -> str:
    """One SPDX expression for a record made of parts: the distinct licences joined with AND (all terms apply)."""
    parts = sorted({(lic or UNKNOWN) for lic in licenses})
    return " AND ".join(parts) if parts else UNKNOWN


def is_non_commercial(license_expression: str | None) -> bool:
    """True when any part forbids commercial use (the Creative Commons NC family)."""
    return any("-NC" in part.upper() for part in (license_expression or "").split(" AND "))


def commercial_status(license_expression: str | None) -> str:
    if is_non_commercial(license_expression):
        return "non-commercial"
    if UNKNOWN in (license_expression or UNKNOWN).split(" AND "):
        return "unknown"
    return "no non-commercial term"
