"""A loopback stand-in for the OpenAI Files and Batch endpoints (127.0.0.1 only), answering every line from a real
engine.

It implements what the `openai` client calls for a batch: `POST /v1/files` (multipart, purpose batch), `GET
/v1/files/{id}`
and `/content`, `POST /v1/batches`, `GET /v1/batches/{id}`, `GET /v1/batches` (newest first, `limit`/`after`) and
`POST /v1/batches/{id}/cancel` (and `POST /v1/chat/completions`, for synchronous runs beside batch ones). One worker
thread runs the batches in order through `engine.generate` (the session's
embedded vLLM teacher). Planted faults, by the 0-based order batches were created in: `expire` (the first half of its
lines answered, the rest in the error file as `batch_expired`), `fail` (status failed, nothing answered), `cancel`;
`line_fault(custom_id, times_submitted)` returns None, "500" or "400" for one line. `hold` keeps every batch
in_progress until `release()`. `submissions` counts how often each custom_id was submitted: what a driver paid for.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from distill.teachers.base import SamplingParams, Teacher, TeacherRequest
from tests.support.loopback import LoopbackServer, chat_completion, send_bytes, send_json, usage


class BatchAPIServer(LoopbackServer):
    def __init__(
        self,
        engine: Teacher,
        *,
        expire: set[int] = frozenset(),
        fail: set[int] = frozenset(),
        cancel: set[int] = frozenset(),
        line_fault: Callable[[str, int], str | None] | None = None,
        hold: bool = False,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.expire, self.fail, self.cancel = set(expire), set(fail), set(cancel)
        self.line_fault = line_fault or (lambda _cid, _n: None)
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []  # batch ids in creation order
        self.submissions: Counter[str] = Counter()
        self.auth_headers: set[str] = set()
        self.lock = threading.Lock()
        self.ids = itertools.count()
        self.released = threading.Event()
        if not hold:
            self.released.set()
        self.work: queue.Queue[str | None] = queue.Queue()
        self.worker = threading.Thread(target=self._worker, daemon=True)

    def release(self) -> None:
        self.released.set()

    def __enter__(self) -> BatchAPIServer:
        super().__enter__()
        self.worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.work.put(None)
        self.worker.join(timeout=120)
        super().__exit__(*exc)

    # -- HTTP --------------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler, method: str, body: bytes) -> None:
        with self.lock:
            self.auth_headers.add(h.headers.get("Authorization", ""))
        url = urlparse(h.path)
        parts = [p for p in url.path.split("/") if p][1:]  # drop the "v1"
        try:
            if method == "POST" and parts == ["files"]:
                return send_json(h, 200, self._upload(h.headers["Content-Type"], body))
            if method == "GET" and len(parts) == 3 and parts[0] == "files" and parts[2] == "content":
                return send_bytes(h, 200, self.files[parts[1]]["data"], "application/octet-stream")
            if method == "GET" and len(parts) == 2 and parts[0] == "files":
                return send_json(h, 200, self._file_object(parts[1]))
            if method == "POST" and parts == ["chat", "completions"]:  # the synchronous endpoint, for side-by-side runs
                line = {"custom_id": "sync", "body": json.loads(body)}
                [result] = self.engine.generate([request_of_line(line)])
                return (
                    send_json(h, 200, answer_line(line, result)["response"]["body"])
                    if result.ok
                    else send_json(h, 400, {"error": {"message": result.error}})
                )
            if method == "POST" and parts == ["batches"]:
                return send_json(h, 200, self._create(json.loads(body)))
            if method == "GET" and parts == ["batches"]:
                return send_json(h, 200, self._list(parse_qs(url.query)))
            if method == "GET" and len(parts) == 2 and parts[0] == "batches":
                return send_json(h, 200, self._batch_object(parts[1]))
            if method == "POST" and len(parts) == 3 and parts[0] == "batches" and parts[2] == "cancel":
                with self.lock:
                    self.batches[parts[1]]["cancel_asked"] = True
                return send_json(h, 200, self._batch_object(parts[1]))
        except KeyError as exc:
            return send_json(h, 404, {"error": {"message": f"no such object {exc}", "type": "invalid_request_error"}})
        send_json(
            h, 404, {"error": {"message": f"{method} {url.path} not implemented", "type": "invalid_request_error"}}
        )

    def _upload(self, content_type: str, body: bytes) -> dict[str, Any]:
        message = BytesParser(policy=email_policy).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        fields = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        purpose = fields["purpose"].get_content().strip()
        data = fields["file"].get_payload(decode=True)
        return self._store(data, fields["file"].get_filename() or "upload.jsonl", purpose)

    def _store(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        with self.lock:
            fid = f"file-{next(self.ids)}"
            self.files[fid] = {"data": data, "filename": filename, "purpose": purpose, "created_at": int(time.time())}
        return self._file_object(fid)

    def _file_object(self, fid: str) -> dict[str, Any]:
        f = self.files[fid]
        return {
            "id": fid,
            "object": "file",
            "bytes": len(f["data"]),
            "created_at": f["created_at"],
            "filename": f["filename"],
            "purpose": f["purpose"],
            "status": "processed",
        }

    def _create(self, req: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            source = self.files[req["input_file_id"]]
            bid = f"batch_{next(self.ids)}"
            ordinal = len(self.order)
            self.order.append(bid)
            lines = [json.loads(line) for line in source["data"].decode().splitlines() if line.strip()]
            for line in lines:
                self.submissions[line["custom_id"]] += 1
            self.batches[bid] = {
                "id": bid,
                "ordinal": ordinal,
                "status": "validating",
                "input_file_id": req["input_file_id"],
                "lines": lines,
                "times": {line["custom_id"]: self.submissions[line["custom_id"]] for line in lines},
                "metadata": req.get("metadata") or {},
                "created_at": int(time.time()),
                "endpoint": req["endpoint"],
                "completion_window": req["completion_window"],
                "output_file_id": None,
                "error_file_id": None,
                "errors": None,
                "counts": {"total": len(lines), "completed": 0, "failed": 0},
            }
        self.work.put(bid)
        return self._batch_object(bid)

    def _batch_object(self, bid: str) -> dict[str, Any]:
        b = self.batches[bid]
        fields = (
            "id",
            "status",
            "input_file_id",
            "metadata",
            "created_at",
            "endpoint",
            "completion_window",
            "output_file_id",
            "error_file_id",
            "errors",
        )
        return {"object": "batch", **{k: b[k] for k in fields}, "request_counts": b["counts"]}

    def _list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        limit = int(query.get("limit", ["20"])[0])
        with self.lock:
            newest_first = list(reversed(self.order))
        if "after" in query:
            newest_first = newest_first[newest_first.index(query["after"][0]) + 1 :]
        page = newest_first[:limit]
        return {
            "object": "list",
            "data": [self._batch_object(b) for b in page],
            "has_more": len(newest_first) > limit,
            "first_id": page[0] if page else None,
            "last_id": page[-1] if page else None,
        }

    # -- the batch worker: one engine, batches in creation order --------------------------------
    def _worker(self) -> None:
        while (bid := self.work.get()) is not None:
            b = self.batches[bid]
            b["status"] = "in_progress"
            self.released.wait()
            self._run(b)

    def _run(self, b: dict[str, Any]) -> None:
        n = b["ordinal"]
        if n in self.fail:
            b["errors"] = {
                "object": "list",
                "data": [
                    {"code": "token_limit_exceeded", "message": "planted: enqueued token limit reached", "line": None}
                ],
            }
            b["status"] = "failed"
            return
        lines = b["lines"]
        run_now = (
            lines[: len(lines) // 2]
            if n in self.expire
            else []
            if (n in self.cancel or b.get("cancel_asked"))
            else lines
        )
        out, err = [], []
        faults = {
            line["custom_id"]: self.line_fault(line["custom_id"], b["times"][line["custom_id"]]) for line in run_now
        }
        asked = [line for line in run_now if faults[line["custom_id"]] is None]
        results = self.engine.generate([request_of_line(line) for line in asked]) if asked else []
        for line, result in zip(asked, results):
            if result.ok:
                out.append(answer_line(line, result))
            else:
                err.append(error_line(line, 400, result.error or "failed"))
        for cid, fault in faults.items():
            if fault is not None:
                line = next(x for x in run_now if x["custom_id"] == cid)
                err.append(error_line(line, int(fault), f"planted {fault}"))
        ended = "expired" if n in self.expire else "cancelled" if len(run_now) < len(lines) else "completed"
        code = {"expired": "batch_expired", "cancelled": "batch_cancelled"}.get(ended)
        for line in lines[len(run_now) :]:
            err.append(
                {
                    "id": f"req-{line['custom_id']}",
                    "custom_id": line["custom_id"],
                    "response": None,
                    "error": {"code": code, "message": f"planted {ended}"},
                }
            )
        if out:
            b["output_file_id"] = self._store(
                "".join(json.dumps(x) + "\n" for x in out).encode(), "output.jsonl", "batch_output"
            )["id"]
        if err:
            b["error_file_id"] = self._store(
                "".join(json.dumps(x) + "\n" for x in err).encode(), "errors.jsonl", "batch_output"
            )["id"]
        b["counts"] = {"total": len(lines), "completed": len(out), "failed": len(err)}
        b["status"] = ended


def request_of_line(line: dict[str, Any]) -> TeacherRequest:
    body = line["body"]
    sampling = SamplingParams(
        body.get("temperature", 1.0), body.get("top_p", 1.0), body.get("max_tokens", 16), body.get("seed", 0)
    )
    return TeacherRequest(line["custom_id"], body["messages"], sampling)


def answer_line(line: dict[str, Any], result: Any) -> dict[str, Any]:
    completion = chat_completion(
        line["body"]["model"], result.text, finish_reason=result.finish_reason,
        usage=usage(result.prompt_tokens, result.completion_tokens), completion_id=f"chatcmpl-{line['custom_id']}",
    )  # fmt: skip
    return {
        "id": f"req-{line['custom_id']}",
        "custom_id": line["custom_id"],
        "response": {"status_code": 200, "request_id": "r", "body": completion},
        "error": None,
    }


def error_line(line: dict[str, Any], status: int, message: str) -> dict[str, Any]:
    body = {"error": {"message": message, "type": "server_error" if status >= 500 else "invalid_request_error"}}
    return {
        "id": f"req-{line['custom_id']}",
        "custom_id": line["custom_id"],
        "response": {"status_code": status, "request_id": "r", "body": body},
        "error": None,
    }
