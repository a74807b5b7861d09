"""`ViewServer`: the dataset viewer as a threaded stdlib HTTP server bound to 127.0.0.1 only.

Loopback only, by design rather than by option: the pages show unreleased model output and seed data. Requests whose
Host header is not this loopback address are refused, so a web page the user visits cannot reach the viewer through
DNS rebinding. Every page is a GET; nothing the viewer does writes to the run folder.
"""

from __future__ import annotations

import logging
import time
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from distill.errors import InputError
from distill.view import pages
from distill.view.queries import OUTPUTS, FilterError, Filters, Output, RunView, parse_record_json

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
# No script, no remote anything: the pages are inert even if escaping ever missed a spot.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_OUTPUT_FOLDERS = ("curated", "generated", "samples", "prefs", "rejects", "seeds", "holdout")


def check_run_folder(root: Path) -> None:
    if not root.is_dir():
        raise InputError(f"{root}: no such run folder")
    if not any((root / name).is_dir() for name in _OUTPUT_FOLDERS):
        raise InputError(f"{root}: not a run folder (it has none of {', '.join(n + '/' for n in _OUTPUT_FOLDERS)})")


class NotFound(Exception):
    pass


class ViewServer(ThreadingHTTPServer):
    daemon_threads = True  # a slow page in flight does not hold up Ctrl-C

    def __init__(self, root: Path, *, port: int = 0, threads: int = 2, memory_limit: str = "256MB") -> None:
        check_run_folder(root)
        self.view = RunView(root, threads=threads, memory_limit=memory_limit)
        self.run_name = root.resolve().name
        try:
            super().__init__((HOST, port), _Handler)
        except OSError:
            self.view.close()
            raise

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def server_close(self) -> None:
        super().server_close()
        self.view.close()

    # -- routes ----------------------------------------------------------------------------------
    def render(self, path: str, params: dict[str, str]) -> tuple[int, str, str | None]:
        """(status, html, redirect location) for one GET."""
        parts = [p for p in path.split("/") if p]
        match parts:
            case []:
                return 200, pages.index_page(self.run_name, self.view.counts(), self.view.reject_reasons()), None
            case ["list", name]:
                return 200, self._list(_output(name), params), None
            case ["row", name]:
                return 200, self._row(_output(name), params), None
            case ["find", name]:
                return 302, "", self._find(_output(name), params)
        raise NotFound(f"{path}: no such page")

    def _list(self, output: Output, params: dict[str, str]) -> str:
        filters = Filters.parse(output.kind, params)
        facets = self.view.facets(output)
        page = self.view.page(output, filters, params.get("after") or None)
        total = sum(s.rows for s in self.view.shards(output))
        return pages.list_page(self.run_name, output, page, filters, facets, params, total)

    def _row(self, output: Output, params: dict[str, str]) -> str:
        shard, row = params.get("shard", ""), params.get("row", "")
        if not row.isdigit():
            raise FilterError(f"row={row!r}: not a row number")
        record = self.view.record(output, shard, int(row))
        if record is None:
            raise NotFound(f"{output.name}: no row {row} in {shard!r} (not a complete shard of this output)")
        name = self.run_name
        match output.kind:
            case "dialogue":
                seed = self.view.seed(record["seed_id"]) if record.get("seed_id") else None
                related = (
                    pages.link(pages.list_href("samples", dialogue_id=record["id"]), "its sample windows")
                    + " · "
                    + pages.link(pages.list_href("prefs", dialogue_id=record["id"]), "its preference pairs")
                )
                body = pages.dialogue_body(
                    record,
                    output,
                    seed=seed,
                    rejects=self.view.rejects_of(record["id"]),
                    settings=self.view.curate_settings(),
                    related=f"<p>{related}</p>",
                )
            case "reject":
                inner = parse_record_json(record.get("record"))
                body = pages.reject_body(record, inner)
                if isinstance(inner, dict) and inner.get("seed_id"):
                    seed = self.view.seed(inner["seed_id"])
                    if seed is not None:
                        where, s = seed
                        body += f"<h2>Its seed ({escape(where)}/)</h2>" + pages.messages_html(s.get("messages"))
            case "sample_window":
                body = pages.sample_body(record, self._dialogue_href(record.get("dialogue_id")))
            case "preference_pair":
                body = pages.pair_body(record, self._dialogue_href(record.get("dialogue_id")))
            case _:
                body = pages.seed_body(
                    record, self.view.rejects_of(record["id"]), pages.list_href("curated", seed_id=record["id"])
                )
        return pages.record_page(name, output, record, body)

    def _dialogue_href(self, dialogue_id: str | None) -> str | None:
        return "/find/curated?" + urlencode({"id": dialogue_id}) if dialogue_id else None

    def _find(self, output: Output, params: dict[str, str]) -> str:
        record_id = params.get("id", "")
        hits = self.view.find(output, "id", record_id)
        if not hits:
            raise NotFound(f"{output.name}: no record with id {record_id!r}")
        return pages.row_href(output.name, *hits[0])


def _output(name: str) -> Output:
    if name not in OUTPUTS:
        raise NotFound(f"{name}: not an output (one of {', '.join(OUTPUTS)})")
    return OUTPUTS[name]


class _Handler(BaseHTTPRequestHandler):
    server: ViewServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        t0 = time.perf_counter()
        if self.headers.get("Host") not in (f"{HOST}:{self.server.port}", f"localhost:{self.server.port}"):
            self._send(
                HTTPStatus.MISDIRECTED_REQUEST, "<h1>421</h1><p>This viewer answers only to its loopback address.</p>"
            )
            return
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        name = self.server.run_name
        try:
            status, html, location = self.server.render(url.path, params)
        except NotFound as exc:
            status, html, location = 404, pages.error_page(str(exc), run_name=name, status=404), None
        except FilterError as exc:
            status, html, location = 400, pages.error_page(str(exc), run_name=name, status=400), None
        except InputError as exc:  # the run folder changed under the viewer
            status, html, location = 500, pages.error_page(str(exc), run_name=name, status=500), None
        except Exception as exc:  # a bug: the page says so, the log keeps the traceback, the server keeps serving
            log.exception("GET %s failed", self.path)
            status, html, location = (
                500,
                pages.error_page(f"internal error: {type(exc).__name__}: {exc}", run_name=name, status=500),
                None,
            )
        self._send(HTTPStatus(status), html, location=location)
        log.info("GET %s %d %.0f ms", self.path, status, (time.perf_counter() - t0) * 1000)

    def _send(self, status: HTTPStatus, html: str, *, location: str | None = None) -> None:
        data = html.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in HEADERS.items():
            self.send_header(key, value)
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's signature)
        log.debug(format, *args)  # do_GET logs each request once, with its latency
