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
from http.server import BaseHTTPRequestHandler

from tests.support.loopback import LoopbackServer, chat_completion, send_bytes, send_json, usage

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


class FaultServer(LoopbackServer):
    def __init__(self, kinds: tuple[str, ...] = KINDS, hang_s: float = 2.0) -> None:
        super().__init__()
        self.kinds = kinds
        self.hang_s = hang_s
        self.attempts: dict[str, list[float]] = defaultdict(list)  # body digest -> attempt times
        self.kind_of: dict[str, str] = {}
        self.auth_headers: set[str] = set()
        self.lock = threading.Lock()

    def handle(self, h: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
        request = json.loads(body)
        digest = hashlib.sha256(body).hexdigest()
        kind = self.kinds[int(request.get("seed", 0)) % len(self.kinds)]
        with self.lock:
            self.attempts[digest].append(time.monotonic())
            self.kind_of[digest] = kind
            self.auth_headers.add(h.headers.get("Authorization", ""))
            attempt = len(self.attempts[digest])
        if kind == "429_then_ok" and attempt == 1:
            return send_json(h, 429, {"error": {"message": "slow down", "type": "rate_limit"}}, {"Retry-After": "1"})
        if (kind == "500_then_ok" and attempt == 1) or kind == "500_always":
            return send_json(h, 500, {"error": {"message": "boom", "type": "server_error"}})
        if kind == "timeout_then_ok" and attempt == 1:
            time.sleep(self.hang_s)
        if kind == "400":
            return send_json(h, 400, {"error": {"message": "bad request", "type": "invalid_request_error"}})
        if kind == "garbage":
            return send_bytes(h, 200, b"<html>upstream proxy says hi</html>", "text/html")
        if kind == "broken_json":
            return send_bytes(h, 200, b'{"id": "x", "choices": [{"index"', "application/json")
        content = {"length": REPLY[:20], "empty": ""}.get(kind, REPLY)
        finish = "length" if kind == "length" else "stop"
        reply = chat_completion(request.get("model", "m"), content, finish_reason=finish, usage=usage(50, 12))
        send_json(h, 200, reply)
