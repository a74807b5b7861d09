"""report.html: one self-contained page (inline CSS, plots as base64 PNG) from whatever a run folder holds.

Modules: `inputs` (streaming readers of the run folder), `plots` (matplotlib Agg figures), `page` (HTML pieces),
`build` (`build_report`, one function per section).
"""

from __future__ import annotations

from pathlib import Path


def build_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    from distill.report.build import build_report as _build

    return _build(run_dir, out)


__all__ = ["build_report"]
