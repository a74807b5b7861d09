"""The viewer's HTML: server-side rendered pages with plain links and GET forms, no script, every text escaped.

Records are model output and user data: every value goes through `escape` (or `urlencode` in links), so a dialogue
that contains markup shows it as text. The server adds a Content-Security-Policy that forbids scripts anyway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import urlencode

from distill.records import scores_dict
from distill.view.queries import COUNT_BUDGET_S, EQUALS, FACETS, OUTPUTS, Filters, Output, Page, parse_record_json

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1200px;
padding:1rem 1.5rem;color:#1f2933;line-height:1.4}
h1{font-size:1.4rem;margin:.4rem 0}
h2{font-size:1.1rem;border-bottom:1px solid #d9e2ec;padding-bottom:.2rem;margin-top:1.6rem}
header a{margin-right:.8rem;font-size:.9rem} .meta{color:#52606d;font-size:.85rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0;width:100%}
th,td{border:1px solid #d9e2ec;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#f0f4f8} td.num{text-align:right}
form.filters{background:#f8fafc;border:1px solid #d9e2ec;border-radius:6px;padding:.5rem .8rem;font-size:.85rem}
form.filters label{display:inline-block;margin:.2rem .8rem .2rem 0} form.filters input[type=number]{width:5rem}
.turn{margin:.3rem 0;padding:.35rem .6rem;border-radius:6px;white-space:pre-wrap}
.user{background:#f0f4f8}
.assistant{background:#e3f8ef}
.system{background:#fff8e1} .role{font-weight:600;color:#52606d;font-size:.8rem;display:block}
.cols{display:flex;gap:1.2rem;flex-wrap:wrap} .cols>div{flex:1 1 28rem;min-width:0}
.verdict{padding:.4rem .7rem;border-radius:4px;margin:.5rem 0} .pass{background:#e3f8ef;border-left:4px solid #27ab83}
.fail{background:#ffeeee;border-left:4px solid #e12d39}
.error{background:#fff8e1;border-left:4px solid #f2c94c;padding:.4rem .7rem}
pre{white-space:pre-wrap;word-break:break-word;background:#f8fafc;padding:.5rem;font-size:.8rem}
"""


def document(title: str, body: str, *, run_name: str) -> str:
    nav = " ".join(f'<a href="/list/{o.name}">{escape(o.title)}</a>' for o in OUTPUTS.values())
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # An empty icon: otherwise the browser asks for /favicon.ico and logs the 404 as a console error.
        f'<link rel="icon" href="data:,"><title>{escape(title)} · distill view</title><style>{CSS}</style></head><body>'
        f'<header><a href="/"><b>{escape(run_name)}</b></a> {nav}</header><main>{body}</main></body></html>'
    )


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value)
    return str(value)


def table(header: Sequence[str], rows: Iterable[Sequence[str]], *, raw: bool = False) -> str:
    """A table; cells are escaped unless `raw` (then the caller built them from escaped parts)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if raw else escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def link(href: str, text: str) -> str:
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def row_href(output: str, shard: str, row: int) -> str:
    return f"/row/{output}?" + urlencode({"shard": shard, "row": row})


def list_href(output: str, **params: Any) -> str:
    return f"/list/{output}" + (
        "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")}) if params else ""
    )


def error_page(message: str, *, run_name: str, status: int) -> str:
    return document(
        f"Error {status}", f'<h1>Error {status}</h1><p class="error">{escape(message)}</p>', run_name=run_name
    )


# -- index -----------------------------------------------------------------------------------------------
def index_page(run_name: str, counts: Mapping[str, int | None], reasons: Sequence[tuple[str, str, int]]) -> str:
    rows = [
        (link(f"/list/{name}", OUTPUTS[name].title) if n is not None else escape(OUTPUTS[name].title),
         escape(OUTPUTS[name].folder + "/"), escape(fmt(n)) if n is not None else "no complete shards")
        for name, n in counts.items()
    ]  # fmt: skip
    body = f"<h1>{escape(run_name)}</h1>" + table(["output", "folder", "rows"], rows, raw=True)
    if reasons:
        body += "<h2>Rejects by stage and reason</h2>" + table(
            ["stage", "reason", "rows"],
            ((escape(s), link(list_href("rejects", stage=s, reason=r), r), escape(fmt(n))) for s, r, n in reasons),
            raw=True,
        )
    return document(run_name, body, run_name=run_name)


# -- list pages ------------------------------------------------------------------------------------------
def _select(name: str, values: Sequence[tuple[str, int]], current: str | None) -> str:
    options = ['<option value="">any</option>'] + [
        f'<option value="{escape(v)}"{" selected" if v == current else ""}>{escape(v)} ({n:,})</option>'
        for v, n in values
    ]
    return f'<label>{escape(name)} <select name="{escape(name)}">{"".join(options)}</select></label>'


def filter_form(output: Output, facets: Mapping[str, Sequence[tuple[str, int]]], params: Mapping[str, str]) -> str:
    parts = []
    for facet in FACETS[output.kind]:
        if facets.get(facet):
            parts.append(_select(facet, facets[facet], params.get(facet)))
    parts.append(
        f'<label>text <input type="search" name="q" value="{escape(params.get("q", ""))}" placeholder="words in the '
        'text"></label>'
    )
    for name, _ in facets.get("score", []):
        lo, hi = params.get(f"min.{name}", ""), params.get(f"max.{name}", "")
        parts.append(
            f'<label>{escape(name)} <input type="number" step="any" name="min.{escape(name)}" value="{escape(lo)}" '
            'placeholder="min">'
            f' – <input type="number" step="any" name="max.{escape(name)}" value="{escape(hi)}" '
            'placeholder="max"></label>'
        )
    # Exact-match filters without a drop-down (dialogue_id, seed_id, id) come from links; the form keeps them.
    for column in EQUALS[output.kind]:
        if column not in FACETS[output.kind] and params.get(column):
            parts.append(
                f'<label>{escape(column)} <input type="text" name="{escape(column)}" '
                f'value="{escape(params[column])}"></label>'
            )
    return (
        f'<form class="filters" id="filters" method="get" action="/list/{output.name}">{"".join(parts)} '
        f'<button type="submit">Filter</button> <a href="/list/{output.name}">clear</a></form>'
    )


def _scores_text(scores: Any) -> str:
    return ", ".join(f"{k} {fmt(v)}" for k, v in scores_dict(scores).items())


def _list_cells(output: Output, r: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    go = row_href(output.name, r["_shard"], r["_row"])
    match output.kind:
        case "dialogue":
            return (
                ["dialogue", "emotion", "mode", "strategies", "turns", "opening", "scores"],
                [
                    link(go, r["id"]),
                    *(escape(fmt(r[c])) for c in ("emotion", "mode", "strategies", "turns", "opening")),
                    escape(_scores_text(r["scores"])),
                ],
            )
        case "sample_window":
            return (
                ["sample", "emotion", "turn", "answers", "response"],
                [link(go, r["id"]), *(escape(fmt(r[c])) for c in ("emotion", "turn", "prompt", "response"))],
            )
        case "preference_pair":
            return (
                ["pair", "emotion", "rejected emotion", "method", "chosen", "rejected"],
                [
                    link(go, r["id"]),
                    *(escape(fmt(r[c])) for c in ("emotion", "rejected_emotion", "method", "chosen", "rejected")),
                ],
            )
        case "reject":
            where = f"{r['source_file']}:{r['source_row']}" if r.get("source_file") else ""
            return (
                ["reject", "stage", "reason", "detail", "source"],
                [
                    link(go, r["id"] or f"row {r['_row']}"),
                    escape(fmt(r["stage"])),
                    escape(fmt(r["reason"])),
                    escape(fmt(r["detail"])),
                    escape(where),
                ],
            )
        case _:
            return (
                ["seed", "source", "emotion", "language", "situation", "opening"],
                [
                    link(go, r["id"]),
                    *(escape(fmt(r[c])) for c in ("source", "emotion", "language", "situation", "opening")),
                ],
            )


def list_page(
    run_name: str,
    output: Output,
    page: Page,
    filters: Filters,
    facets: Mapping[str, Any],
    params: Mapping[str, str],
    total: int,
) -> str:
    if page.matching is None:
        found = f"more than {len(page.rows)} matching (the count was stopped after {COUNT_BUDGET_S:g} s)"
    elif filters.active:
        found = f"{page.matching:,}{'+' if page.capped else ''} matching of {total:,}"
    else:
        found = f"{total:,} rows"
    body = f"<h1>{escape(output.title)}</h1>" + filter_form(output, facets, params)
    body += (
        f'<p class="meta" id="summary">{escape(found)}; showing {len(page.rows)} (query {page.seconds * 1000:.0f} '
        "ms)</p>"
    )
    if page.rows:
        header: list[str] = []
        cells = []
        for r in page.rows:
            header, row = _list_cells(output, r)
            cells.append(row)
        body += table(header, cells, raw=True)
    else:
        body += "<p>Nothing matches these filters.</p>"
    if page.next_cursor:
        keep = {k: v for k, v in params.items() if k != "after" and v}
        body += f"<p>{link(list_href(output.name, **keep, after=page.next_cursor), 'next page →')}</p>"
    title = f"{output.title}: {found}"
    return document(title, body, run_name=run_name)


# -- record pages ----------------------------------------------------------------------------------------
def messages_html(messages: Sequence[Mapping[str, Any]] | None) -> str:
    out = []
    for m in messages or []:
        role = str(m.get("role") or "")
        cls = role if role in ("user", "assistant", "system") else "system"
        label = {"user": "seeker (user)", "assistant": "supporter (assistant)"}.get(role, role)
        out.append(
            f'<div class="turn {cls}"><span '
            f'class="role">{escape(label)}</span>{escape(str(m.get("content") or ""))}</div>'
        )
    return "".join(out)


def fields_table(record: Mapping[str, Any], names: Sequence[str]) -> str:
    return table(["field", "value"], ((n, _field_text(record.get(n))) for n in names if n in record))


def _field_text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items())
    return fmt(value)


def scores_table(scores: Any, thresholds: Mapping[str, float]) -> str:
    values = scores_dict(scores)
    if not values:
        return "<p>No scores.</p>"
    rows = []
    for name, value in values.items():
        bound = thresholds.get(name)
        verdict = (
            ""
            if bound is None
            else (f"≥ {bound:g}: passed" if value is not None and value >= bound else f"≥ {bound:g}: below")
        )
        rows.append((name, fmt(value), verdict))
    return table(["score", "value", "threshold"], rows)


def thresholds_of(settings: Mapping[str, Any]) -> dict[str, float]:
    """Score thresholds of a run's curate settings: min_empathy on `empathy`, and min_scores."""
    out: dict[str, float] = {}
    if isinstance(settings.get("min_empathy"), int | float):
        out["empathy"] = float(settings["min_empathy"])
    for name, bound in (settings.get("min_scores") or {}).items():
        if isinstance(bound, int | float):
            out[str(name)] = float(bound)
    return out


def verdict_html(output: Output, rejects: Sequence[Mapping[str, Any]], settings: Mapping[str, Any]) -> str:
    parts = []
    for r in rejects:
        where = link(row_href("rejects", r["_shard"], r["_row"]), "reject row")
        parts.append(
            f'<div class="verdict fail"><b>Rejected at {escape(fmt(r["stage"]))}: {escape(fmt(r["reason"]))}</b>'
            f"{' (field ' + escape(r['field']) + ')' if r.get('field') else ''} — {escape(fmt(r['detail']))} "
            f"({where})</div>"
        )
    if output.name == "curated" and not rejects:
        filters = ", ".join(
            f"{k}={fmt(settings[k]) if settings[k] is not None else 'unset'}"
            for k in ("min_turns", "max_turns", "min_chars_per_turn", "max_chars_per_turn", "languages", "safety")
            if k in settings
        )
        parts.append(
            '<div class="verdict pass"><b>Passed curation</b>: every filter, threshold and dedup pass of this run'
            + (f" ({escape(filters)})" if filters else "")
            + "</div>"
        )
    return "".join(parts)


def dialogue_body(
    record: Mapping[str, Any],
    output: Output,
    *,
    seed: tuple[str, Mapping[str, Any]] | None,
    rejects: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Any],
    related: str = "",
) -> str:
    left = "<h2>Dialogue</h2>" + messages_html(record.get("messages"))
    scores, note = record.get("scores"), ""
    if not scores:  # generated/ holds dialogues before scoring; one that curation rejected was scored in its reject row
        scored = next(
            (
                r
                for r in (parse_record_json(x.get("record")) for x in rejects)
                if isinstance(r, dict) and r.get("scores")
            ),
            None,
        )
        if scored is not None:
            scores, note = (
                scored["scores"],
                '<p class="meta">As scored by curation before it was rejected (from its reject row).</p>',
            )
    left += "<h2>Scores</h2>" + note + scores_table(scores, thresholds_of(settings))
    left += "<h2>Record</h2>" + fields_table(
        record,
        [
            "id",
            "seed_id",
            "mode",
            "variant",
            "emotion",
            "strategies",
            "language",
            "prompt_version",
            "teacher",
            "sampling",
            "usage",
            "finish_reason",
            "source",
            "license",
            "created_at",
        ],
    )
    if seed is None:
        right = "<h2>Seed</h2><p>Its seed is in neither seeds/ nor holdout/.</p>"
    else:
        where, s = seed
        right = f"<h2>Seed ({escape(where)}/)</h2>" + fields_table(
            s, ["id", "source", "emotion", "language", "license", "situation"]
        )
        right += messages_html(s.get("messages"))
    return (
        verdict_html(output, rejects, settings)
        + related
        + f'<div class="cols"><div>{left}</div><div>{right}</div></div>'
    )


def record_page(run_name: str, output: Output, record: Mapping[str, Any], body: str) -> str:
    title = f"{output.title}: {record.get('id') or 'row'}"
    return document(title, f"<h1>{escape(title)}</h1>" + body, run_name=run_name)


def reject_body(record: Mapping[str, Any], inner: Any) -> str:
    body = (
        f'<div class="verdict fail"><b>Rejected at {escape(fmt(record.get("stage")))}: '
        f"{escape(fmt(record.get('reason')))}</b>"
        f" — {escape(fmt(record.get('detail')))}</div>"
    )
    body += fields_table(record, ["id", "stage", "reason", "field", "source_file", "source_row"])
    if isinstance(inner, dict) and inner.get("messages"):
        body += "<h2>The record as far as it got</h2>" + messages_html(inner["messages"])
        if inner.get("scores"):
            body += "<h2>Scores</h2>" + scores_table(inner["scores"], {})
    if inner is not None:
        text = json.dumps(inner, ensure_ascii=False, indent=1, default=str) if not isinstance(inner, str) else inner
        body += f"<h2>Record JSON</h2><pre>{escape(text)}</pre>"
    return body


def sample_body(record: Mapping[str, Any], dialogue_href: str | None) -> str:
    body = fields_table(record, ["id", "dialogue_id", "seed_id", "turn", "emotion", "source", "license"])
    if dialogue_href:
        body += f"<p>{link(dialogue_href, 'its dialogue')}</p>"
    body += "<h2>Context</h2>" + messages_html(record.get("context"))
    body += "<h2>Response</h2>" + messages_html([{"role": "assistant", "content": record.get("response")}])
    return body


def pair_body(record: Mapping[str, Any], dialogue_href: str | None) -> str:
    body = fields_table(record, ["id", "dialogue_id", "emotion", "rejected_emotion", "method", "source", "license"])
    if dialogue_href:
        body += f"<p>{link(dialogue_href, 'its dialogue')}</p>"
    body += "<h2>Prompt</h2>" + messages_html(record.get("prompt"))
    chosen = messages_html([{"role": "assistant", "content": record.get("chosen")}])
    rejected = messages_html([{"role": "assistant", "content": record.get("rejected")}])
    return body + f'<div class="cols"><div><h2>Chosen</h2>{chosen}</div><div><h2>Rejected</h2>{rejected}</div></div>'


def seed_body(record: Mapping[str, Any], rejects: Sequence[Mapping[str, Any]], dialogues_href: str) -> str:
    body = verdict_html(OUTPUTS["seeds"], rejects, {}) + fields_table(
        record, ["id", "source", "language", "emotion", "license", "situation", "metadata"]
    )
    body += f"<p>{link(dialogues_href, 'dialogues made from this seed')}</p>"
    return body + "<h2>Messages</h2>" + messages_html(record.get("messages"))
