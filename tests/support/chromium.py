"""A headless Chromium driven over the DevTools protocol with the `websockets` package (no driver download at runtime).

Flags keep it offline: no sandbox (containers), no GPU, no QUIC/background/component/sync traffic, a fresh profile per
launch. System packages: chromium (Debian `apt-get install chromium`); `start_chromium` skips the test without it.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    "--window-size=1280,2000",
)


def chromium_binary() -> str | None:
    return next((p for name in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(name))), None)


class PageLoad:
    def __init__(self, console_errors: list[str], screenshot_png: bytes, facts: dict[str, Any]) -> None:
        self.console_errors, self.screenshot_png, self.facts = console_errors, screenshot_png, facts


class Chromium:
    def __init__(self, binary: str, timeout_s: float = 30.0) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.timeout_s = timeout_s
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.time() + timeout_s
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if time.time() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        self.port = int(port_file.read_text().splitlines()[0])
        self._ids = itertools.count(1)

    def load(self, url: str, then: str | None = None) -> PageLoad:
        """Open `url`; with `then`, run that script once it has loaded (e.g. submit a form) and report on the page it
        leads to."""
        from websockets.sync.client import connect

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=self.timeout_s) as resp:
            page = next(t for t in json.load(resp) if t["type"] == "page")
        errors: list[str] = []
        with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=self.timeout_s) as ws:

            def call(method: str, **params: Any) -> dict[str, Any]:
                msg_id = next(self._ids)
                ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
                while True:
                    msg = json.loads(ws.recv(timeout=self.timeout_s))
                    if msg.get("id") == msg_id:
                        if "error" in msg:
                            raise RuntimeError(f"{method}: {msg['error']}")
                        return msg.get("result", {})
                    collect(msg)

            def collect(msg: dict[str, Any]) -> None:
                method, params = msg.get("method"), msg.get("params", {})
                if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                    errors.append(
                        "console: "
                        + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                    )
                elif method == "Runtime.exceptionThrown":
                    errors.append("exception: " + params["exceptionDetails"].get("text", ""))
                elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                    errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")

            for domain in ("Page", "Runtime", "Log"):
                call(f"{domain}.enable")
            errors.clear()  # enabling Runtime and Log replays what the tab's previous page logged: not this page's

            def wait_for_load() -> None:
                deadline = time.time() + self.timeout_s
                while True:  # until the load event: every data-URI image decoded
                    msg = json.loads(ws.recv(timeout=max(0.1, deadline - time.time())))
                    collect(msg)
                    if msg.get("method") == "Page.loadEventFired":
                        break

            call("Page.navigate", url=url)
            wait_for_load()
            if then is not None:
                call("Runtime.evaluate", expression=then)
                wait_for_load()
            facts = call(
                "Runtime.evaluate",
                returnByValue=True,
                expression="""({
                    images: document.images.length,
                    broken: Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length,
                    sections: document.querySelectorAll('section').length,
                    missing: document.querySelectorAll('.missing').length,
                    height: document.body.scrollHeight,
                    title: document.title,
                    url: location.href,
                    table_rows: document.querySelectorAll('tbody tr').length,
                })""",
            )["result"]["value"]
            shot = call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            time.sleep(0.2)  # late console messages (none expected) still get collected below
            try:
                while True:
                    collect(json.loads(ws.recv(timeout=0.2)))
            except TimeoutError:
                pass
        return PageLoad(errors, base64.b64decode(shot["data"]), facts)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def start_chromium() -> Chromium:
    """A started browser, or a skip naming what is missing (the binary, or the `websockets` package)."""
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium); the browser check needs it")
    why = "the browser check drives Chromium with the `websockets` package (pip install websockets)"
    pytest.importorskip("websockets", reason=why)
    return Chromium(binary)
