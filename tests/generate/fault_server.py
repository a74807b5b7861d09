"""A real chat-completions HTTP server on 127.0.0.1 that injects faults, keyed on each request's sampling seed.

Each distinct request (same body = same request retried) gets one behaviour from `seed % len(KINDS)`; attempts are
logged with their time so tests can check retries, Retry-After and what reached the server.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = (
    "ok",
    "429_then_ok",  # 429 with Retry-After: 1, then a normal answer
    "500_then_ok",
    "timeout_then_ok",  # sleeps past the client timeout once
    "garbage",  # 200 with a non-JSON body, always
    "500_always",
    "400",  # not retryable
    "length",  # finish_reason length -> truncated
    "empty",  # an empty reply -> unparseable
    "broken_json",  # 200, JSON content type, truncated JSON, always
)
REPLY = "That sounds really hard. I am here with you; what has been the heaviest part?"


class FaultServer:
    def __init__(self, kinds: tuple[str, ...] = KINDS, hang_s: float = 2.0) -> None:
        self.kinds = kinds
        self.hang_s = hang_s
        self.attempts: dict[str, list[float]] = defaultdict(list)  # body digest -> attempt times
        self.kind_of: dict[str, str] = {}
        self.auth_headers: set[str] = set()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.handle(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def handle(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        request = json.loads(body)
        digest = hashlib.sha256(body).hexdigest()
        kind = self.kinds[int(request.get("seed", 0)) % len(self.kinds)]
        with self.lock:
            self.attempts[digest].append(time.monotonic())
            self.kind_of[digest] = kind
            self.auth_headers.add(h.headers.get("Authorization", ""))
            attempt = len(self.attempts[digest])
        if kind == "429_then_ok" and attempt == 1:
            return self._send(h, 429, {"error": {"message": "slow down", "type": "rate_limit"}}, {"Retry-After": "1"})
        if (kind == "500_then_ok" and attempt == 1) or kind == "500_always":
            return self._send(h, 500, {"error": {"message": "boom", "type": "server_error"}})
        if kind == "timeout_then_ok" and attempt == 1:
            time.sleep(self.hang_s)
        if kind == "400":
            return self._send(h, 400, {"error": {"message": "bad request", "type": "invalid_request_error"}})
        if kind == "garbage":
            return self._raw(h, 200, b"<html>upstream proxy says hi</html>", "text/html")
        if kind == "broken_json":
            return self._raw(h, 200, b'{"id": "x", "choices": [{"index"', "application/json")
        content = {"length": REPLY[:20], "empty": ""}.get(kind, REPLY)
        finish = "length" if kind == "length" else "stop"
        self._send(
            h,
            200,
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.get("model", "m"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
                "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62},
            },
        )

    def _send(self, h: BaseHTTPRequestHandler, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        self._raw(h, status, json.dumps(payload).encode(), "application/json", headers)

    @staticmethod
    def _raw(h: BaseHTTPRequestHandler, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and hung up
            pass
