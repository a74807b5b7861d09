"""A real HTTP server on 127.0.0.1 (an ephemeral port, on daemon threads) that tests run as a context manager.

Subclasses answer in `handle(h, method, body)`; `send_json` / `send_bytes` write a reply, and `chat_completion` is the
body an OpenAI-compatible chat endpoint returns, so every stand-in server speaks the same wire format.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer:
    def __init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                server.handle(self, "GET", b"")

            def do_POST(self) -> None:
                server.handle(self, "POST", self.rfile.read(int(self.headers.get("Content-Length", 0))))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def handle(self, h: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
        raise NotImplementedError

    def __enter__(self) -> Any:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


Headers = dict[str, str] | None


def send_json(h: BaseHTTPRequestHandler, status: int, payload: dict[str, Any], headers: Headers = None) -> None:
    send_bytes(h, status, json.dumps(payload).encode(), "application/json", headers)


def send_bytes(h: BaseHTTPRequestHandler, status: int, data: bytes, ctype: str, headers: Headers = None) -> None:
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


def chat_completion(
    model: str,
    content: str | None,
    *,
    finish_reason: str = "stop",
    usage: dict[str, Any],
    completion_id: str = "chatcmpl-test",
) -> dict[str, Any]:
    return {
        "id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}],
        "usage": usage,
    }  # fmt: skip


def usage(prompt_tokens: int, completion_tokens: int, **extra: Any) -> dict[str, Any]:
    total = prompt_tokens + completion_tokens
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": total, **extra}
