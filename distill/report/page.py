"""HTML building blocks of the report: one static page, inline CSS, images as data URIs, every text escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1.5rem;
color:#1f2933;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{border-bottom:1px solid #d9e2ec;padding-bottom:.2rem;margin-top:2.2rem}
nav a{margin-right:.8rem;font-size:.9rem} .meta{color:#52606d;font-size:.9rem}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}
th,td{border:1px solid #d9e2ec;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left} th{background:#f0f4f8}
img{max-width:100%;height:auto;display:block;margin:.6rem 0}
.missing{color:#8d6e00;background:#fff8e1;border-left:4px solid #f2c94c;padding:.4rem .7rem}
.dialogue{border:1px solid #d9e2ec;border-radius:6px;padding:.5rem .8rem;margin:.8rem 0;font-size:.9rem}
.turn{margin:.25rem 0} .role{font-weight:600;display:inline-block;min-width:5.5rem;color:#52606d}
.reply{background:#f0f4f8;border-radius:4px;padding:.25rem .5rem;margin:.25rem 0}
.grid{display:flex;flex-wrap:wrap;gap:.6rem} .grid img{max-width:48%}
"""


def missing(text: str) -> str:
    return f'<p class="missing">{escape(text)}</p>'


def image(png_base64: str, alt: str) -> str:
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{png_base64}">'


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(fmt(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def turns(messages: Sequence[dict[str, str]]) -> str:
    names = {"user": "Seeker", "assistant": "Supporter", "system": "System"}
    return "".join(
        '<div class="turn"><span '
        f'class="role">{escape(names.get(m["role"], m["role"]))}</span>{escape(m["content"])}</div>'
        for m in messages
    )


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>{body}</section>'


def document(title: str, meta: str, sections: Sequence[tuple[str, str, str]]) -> str:
    nav = "".join(f'<a href="#{escape(a)}">{escape(t)}</a>' for a, t, _ in sections)
    body = "".join(section(a, t, b) for a, t, b in sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # No external fetches: a data-URI favicon keeps the browser from requesting /favicon.ico.
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="meta">{escape(meta)}</p><nav>{nav}</nav>{body}</body></html>'
    )
