"""Report fixtures: a run folder holding every report input, and a headless Chromium to open the page in.

Chromium is driven over the DevTools protocol with the `websockets` package (no driver download at runtime). Flags keep
it offline: no sandbox (containers), no GPU, no QUIC/background/component/sync traffic, a fresh profile per launch.
System packages: chromium (Debian `apt-get install chromium`); tests that need it skip when it is absent.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from distill.atomic import atomic_write_json
from distill.emotions import polarity
from distill.evaluate.aggregate import summarize_system
from distill.records import DIALOGUE, make_id
from distill.shards import ShardWriter

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
    "--window-size=1280,2000",
)  # fmt: skip


def chromium_binary() -> str | None:
    return next((p for name in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(name))), None)


class PageLoad:
    def __init__(self, console_errors: list[str], screenshot_png: bytes, facts: dict[str, Any]) -> None:
        self.console_errors, self.screenshot_png, self.facts = console_errors, screenshot_png, facts


class Chromium:
    def __init__(self, binary: str, timeout_s: float = 30.0) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        """Open `url`; with `then`, run that script once it has loaded (e.g. submit a form) and report on the page it leads to."""
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
                    errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
                elif method == "Runtime.exceptionThrown":
                    errors.append("exception: " + params["exceptionDetails"].get("text", ""))
                elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                    errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")

            for domain in ("Page", "Runtime", "Log"):
                call(f"{domain}.enable")
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


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium); the browser check needs it")
    pytest.importorskip("websockets", reason="the browser check drives Chromium with the `websockets` package (pip install websockets)")
    browser = Chromium(binary)
    yield browser
    browser.close()


def _dialogue(i: int, emotion: str, strategies: list[str]) -> dict[str, Any]:
    messages = [
        {"role": "user", "content": f"I have been feeling {emotion} since last week <b>not bold</b> #{i}."},
        {"role": "assistant", "content": "That sounds really hard. What happened?"},
        {"role": "user", "content": "My plans fell through and I keep thinking about it."},
        {"role": "assistant", "content": "It makes sense that it weighs on you. " * (1 + i % 4)},
    ]
    return {
        "id": make_id("report-test", i), "seed_id": make_id("seed", i), "mode": "continue", "variant": 0, "prompt_version": "v1",
        "language": "en", "emotion": emotion, "strategies": strategies, "messages": messages,
        "teacher": {"model": "embedded", "revision": None, "backend": "vllm"},
        "sampling": {"temperature": 0.8, "top_p": 0.95, "max_tokens": 64, "seed": i},
        "usage": {"prompt_tokens": 10, "completion_tokens": 20}, "finish_reason": "stop",
        "scores": {"empathy": float(i % 7), "valence_shift": (i % 5) / 5 - 0.4}, "created_at": None,
    }  # fmt: skip


def _eval_rows(system: str) -> list[dict[str, Any]]:
    ratings = {"base": ["bad", "okay", None], "student": ["good", "okay", "bad"], "teacher": ["good", "good", "okay"]}[system]
    rows = []
    for i, (emotion, rating) in enumerate(zip(("sad", "joyful", "afraid"), ratings)):
        rows.append({
            "id": make_id(system, i), "prompt_id": make_id("p", i), "system": system, "response": f"I hear you <script>x</script> {i}",
            "rating": rating, "emotion": emotion, "polarity": polarity(emotion),
            "scores": {"words": 5.0, "bertscore_f1": 0.5 + i / 10, "epitome_er": 1.0, "cehs_empathy": 1.0},
            "judge_failures": {} if rating else {"empathy_rating": "no_rating_found"},
        })  # fmt: skip
    return rows


@pytest.fixture
def populated_run(tmp_path: Path) -> Path:
    """A run folder with curated shards, curate and train stats and an eval.json, shaped as the stages write them."""
    root = tmp_path / "runs" / "report-test"
    emotions = ["sad", "joyful", "afraid", "lonely", "proud"]
    with ShardWriter(root / "curated", DIALOGUE, rows_per_shard=16) as out:
        out.write(_dialogue(i, emotions[i % len(emotions)], ["comfort", "questioning"][: 1 + i % 2]) for i in range(40))
    atomic_write_json(root / "stats" / "seeds.json", {"stage": "seeds", "counters": {"records_kept": 70, "for_generation": 60}, "info": {}})
    atomic_write_json(root / "stats" / "curate.json", {"stage": "curate", "counters": {
        "dialogues_in": 60, "passed_filters": 50, "passed_thresholds": 48, "curated": 40, "dropped/min_turns/too_short": 10,
        "dropped/score_epitome_lexical/below_min_empathy": 2, "dropped/dedup/minhash": 8}, "info": {"empathy_scorer": {
        "scorer": "epitome_classifier", "model": "models/epitome", "validation": {"source": "validation.json beside the model",
        "rows": 505, "figures": {"emotional_reactions": {"accuracy": 0.81, "macro_f1": 0.77, "spearman": 0.64}}}}}})  # fmt: skip
    atomic_write_json(root / "stats" / "train.json", {"stage": "train", "counters": {}, "info": {
        "loss_curve": [{"step": s, "loss": 3.0 / (1 + s)} for s in range(1, 30)]}})  # fmt: skip
    systems = {
        name: {"status": "evaluated", "model": f"{name}-model", "backend": "transformers", "responses": 3, "rejected": {}, "truncated": 0,
               **summarize_system(_eval_rows(name))}
        for name in ("base", "student", "teacher")
    }  # fmt: skip
    examples = [{"prompt_id": "p1", "emotion": "sad", "context": [{"role": "user", "content": "My cat is ill & I'm scared <3"}],
                 "reference": "That is frightening.", "responses": {n: {"response": f"{n} says <i>hi</i>", "rating": "good"} for n in systems}}]  # fmt: skip
    atomic_write_json(root / "eval.json", {
        "version": 1, "run": "report-test", "prompts": 3, "holdout_seeds": 10, "rubric_version": "v1",
        "judge": {"backend": "transformers", "model": "judge-model", "rubric_version": "v1", "max_tokens": 64},
        "systems": systems, "examples": examples})  # fmt: skip
    return root
