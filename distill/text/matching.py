"""Cue patterns over millions of turns, matched with RE2 instead of `re`.

The filters and lexical scorers test a dozen alternation-heavy patterns per turn. Python's backtracking `re` spends
~150 us per turn on them, which dominated curation (`python -m bench.scale`); RE2 matches a whole set in one linear
pass (~2 us). Patterns are still written and documented as `re.Pattern`s (the readable source, and what the tests
quote); they must stay in the RE2-compatible subset (no lookaround, no backreferences), which compiling them checks.
"""

from __future__ import annotations

import re
from typing import Any


def _options(source: re.Pattern[str]) -> Any:
    import re2

    options = re2.Options()
    options.case_sensitive = not source.flags & re.IGNORECASE
    options.log_errors = False  # a bad pattern raises below with its text; no stderr noise
    return options


def _text(source: re.Pattern[str]) -> str:
    return f"(?m){source.pattern}" if source.flags & re.MULTILINE else source.pattern


class FastPattern:
    """`pattern.search(text)` with RE2 deciding whether there is a match (one C call) and `re` finding it only when
    there is (rare: a drop), so the match object is exactly `re`'s."""

    __slots__ = ("source", "_set")

    def __init__(self, source: re.Pattern[str]) -> None:
        self.source = source
        self._set = PatternSet({"pattern": source})

    def search(self, text: str) -> re.Match[str] | None:
        return self.source.search(text) if self._set.any(text) else None


class PatternSet:
    """Named patterns matched together: `matched(text)` is the set of names whose pattern occurs in `text`, in one pass.

    Every pattern must share the first one's flags (RE2 sets take one option set).
    """

    __slots__ = ("names", "sources", "_set")

    def __init__(self, patterns: dict[str, re.Pattern[str]]) -> None:
        self.names = tuple(patterns)
        self.sources = tuple(patterns.values())
        flags = {p.flags & (re.IGNORECASE | re.MULTILINE) for p in self.sources}
        if len(flags) > 1:
            raise ValueError(f"a PatternSet takes patterns with the same flags, got {sorted(flags)}")
        self._set: Any = None

    def _compile(self) -> Any:
        import re2

        compiled = re2.Set.SearchSet(_options(self.sources[0]))
        for name, source in zip(self.names, self.sources):
            try:
                compiled.Add(_text(source))
            except re2.error as exc:
                raise ValueError(f"pattern {name!r} is outside RE2's syntax: {source.pattern[:80]!r}...") from exc
        compiled.Compile()
        return compiled

    def _hits(self, text: str) -> list[int] | None:
        if self._set is None:
            self._set = self._compile()
        return self._set.Match(text)

    def matched(self, text: str) -> set[str]:
        hits = self._hits(text)
        return {self.names[i] for i in hits} if hits else set()

    def any(self, text: str) -> bool:
        return bool(self._hits(text))

    def __getstate__(self) -> tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]:
        return self.names, self.sources  # the compiled set is not picklable; Ray workers recompile on first use

    def __setstate__(self, state: tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]) -> None:
        self.names, self.sources = state
        self._set = None
