"""`distill view`: pages over a curated demo run, filters checked against the shards read independently, Chromium, the
CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil
import pytest

from distill.records import DIALOGUE, scores_dict
from distill.shards import ShardWriter, iter_rows, list_shards
from distill.view.queries import OUTPUTS, Filters, RunView

REPO = Path(__file__).resolve().parents[2]


def get(server: Any, path: str, host: str | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(server.url.rstrip("/") + path, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def listed_ids(html: str) -> list[str]:
    return re.findall(r'<tr><td><a href="/row/[^"]+">([^<]+)</a>', html)


def rows(root: Path, folder: str) -> list[dict[str, Any]]:
    return list(iter_rows(root / folder))


def test_filters_list_what_the_shards_hold(viewer: Any, demo_run: dict[str, Any]) -> None:
    curated = rows(demo_run["root"], "curated")
    assert len(curated) >= 4 and len({d["emotion"] for d in curated}) >= 4
    status, html, _ = get(viewer, "/list/curated")
    assert status == 200 and listed_ids(html) == [d["id"] for d in curated]  # shard order, every row
    emotion = curated[1]["emotion"]
    assert listed_ids(get(viewer, f"/list/curated?emotion={emotion}")[1]) == [
        d["id"] for d in curated if d["emotion"] == emotion
    ]
    strategy_hits = [d["id"] for d in curated if "questioning" in d["strategies"]]
    assert listed_ids(get(viewer, "/list/curated?strategy=questioning")[1]) == strategy_hits
    empathy = sorted(scores_dict(d["scores"])["empathy"] for d in curated)
    lo, hi = empathy[1], empathy[-2]
    in_range = [d["id"] for d in curated if lo <= scores_dict(d["scores"])["empathy"] <= hi]
    assert 0 < len(in_range) < len(curated)
    assert listed_ids(get(viewer, "/list/curated?" + urlencode({"min.empathy": lo, "max.empathy": hi}))[1]) == in_range
    # Full text: case-insensitive, literal (regex characters match themselves).
    assert listed_ids(get(viewer, "/list/curated?q=CONFERENCE+TALK")[1]) == [
        d["id"] for d in curated if "conference talk" in d["messages"][0]["content"]
    ]
    assert listed_ids(get(viewer, "/list/curated?q=.%2A")[1]) == []
    # Rejects across stages, by stage and reason.
    rejects = rows(demo_run["root"], "rejects/curate")
    assert listed_ids(get(viewer, "/list/rejects?stage=seeds")[1]) == ["seed-x"]
    assert listed_ids(get(viewer, "/list/rejects?reason=ai_disclaimer")[1]) == [
        r["id"] for r in rejects if r["reason"] == "ai_disclaimer"
    ]
    # Sample windows and pairs of one dialogue.
    samples = rows(demo_run["root"], "samples")
    first = curated[0]["id"]
    assert listed_ids(get(viewer, f"/list/samples?dialogue_id={first}")[1]) == [
        s["id"] for s in samples if s["dialogue_id"] == first
    ]
    status, html, _ = get(viewer, "/list/curated?min.empathy=lots")
    assert status == 400 and "min.empathy=&#x27;lots&#x27;: not a number" in html


def test_keyset_pages_cover_every_row_once_in_order(demo_run: dict[str, Any]) -> None:
    view = RunView(demo_run["root"])
    try:
        for name, filters in (
            ("generated", Filters()),
            ("curated", Filters()),
            ("samples", Filters.parse("sample_window", {"q": "you"})),
        ):
            output = OUTPUTS[name]
            assert len(view.shards(output)) > 1  # the cursor crosses shard boundaries
            seen: list[str] = []
            cursor = None
            while True:
                page = view.page(output, filters, cursor, limit=2)
                seen += [r["id"] for r in page.rows]
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            expected = [r["id"] for r in rows(demo_run["root"], output.folder)]
            if filters.text:
                expected = [
                    r["id"]
                    for r in rows(demo_run["root"], output.folder)
                    if "you" in (r["response"] + r["context"][-1]["content"]).lower()
                ]
            assert seen == expected and len(seen) > 2
    finally:
        view.close()


def test_dialogue_page_shows_seed_scores_and_verdict(viewer: Any, demo_run: dict[str, Any]) -> None:
    curated = rows(demo_run["root"], "curated")
    _, html, _ = get(viewer, f"/find/curated?id={curated[0]['id']}")  # redirected to its row page
    assert "Passed curation" in html and "Seed (seeds/)" in html
    assert re.search(r"situation of \w+ #\d+", html)
    for name, value in scores_dict(curated[0]["scores"]).items():
        assert f"<td>{name}</td>" in html
    assert "min_turns=4" in html  # the demo config's filters it passed
    # A generated dialogue that curation rejected: the reason and detail beside it.
    bad = demo_run["bad"][0]
    status, html, _ = get(viewer, f"/find/generated?id={bad['id']}")
    assert status == 200 and "Rejected at curate: ai_disclaimer" in html and "says &#x27;As an AI&#x27;" in html
    (reject_href,) = re.findall(r'<a href="(/row/rejects[^"]+)"', get(viewer, f"/list/rejects?id={bad['id']}")[1])
    html = get(viewer, reject_href.replace("&amp;", "&"))[1]
    assert (
        "Rejected at curate: ai_disclaimer" in html
        and "Its seed (seeds/)" in html
        and "Seed opening: situation of" in html
    )
    # A duplicate dropped after scoring: its scores come from its reject row.
    status, html, _ = get(viewer, "/find/generated?id=zz-exact-copy")
    assert (
        "Rejected at curate: " in html
        and "As scored by curation before it was rejected" in html
        and "<td>empathy</td>" in html
    )
    status, _, _ = get(viewer, "/row/curated?shard=../../etc/passwd&row=0")
    assert status == 404


def test_model_text_is_escaped_and_scripts_forbidden(viewer: Any, demo_run: dict[str, Any]) -> None:
    marked = demo_run["marked"]["id"]
    status, html, headers = get(viewer, f"/list/rejects?id={marked}")
    (reject_href,) = re.findall(r'<a href="(/row/rejects[^"]+)"', html)
    for path in (
        reject_href.replace("&amp;", "&"),
        f"/find/generated?id={marked}",
        "/list/generated?q=onerror",
        "/list/holdout?q=onerror",
    ):
        status, html, headers = get(viewer, path)
        assert status == 200 and "&lt;script&gt;console.error(" in html
        assert "<script" not in html and "<img" not in html
        assert (
            "script-src" not in headers["Content-Security-Policy"]
            and "default-src 'none'" in headers["Content-Security-Policy"]
        )


def test_pages_render_in_chromium_and_a_filter_changes_the_list(
    viewer: Any, chromium: Any, demo_run: dict[str, Any]
) -> None:
    curated = rows(demo_run["root"], "curated")
    marked = demo_run["marked"]["id"]
    for path in (
        "/",
        "/list/curated",
        "/list/rejects",
        "/list/samples",
        "/list/prefs",
        "/list/seeds",
        f"/find/curated?id={curated[0]['id']}",
        f"/find/generated?id={marked}",
        "/list/generated?q=onerror",
        f"/find/seeds?id={curated[0]['seed_id']}",
    ):
        page = chromium.load(viewer.url.rstrip("/") + path)
        assert page.console_errors == [], path
        assert page.facts["title"].endswith("· distill view") and "Error" not in page.facts["title"], path
    before = chromium.load(viewer.url + "list/curated")
    assert before.facts["table_rows"] == len(curated)
    # Pick the second emotion in the drop-down and submit the form, as a user would.
    emotion = curated[1]["emotion"]
    after = chromium.load(
        viewer.url + "list/curated",
        then=f"document.querySelector('select[name=emotion]').value = {emotion!r}; "
        "document.getElementById('filters').submit();",
    )
    assert after.console_errors == []
    assert f"emotion={emotion}" in after.facts["url"]
    assert after.facts["table_rows"] == sum(d["emotion"] == emotion for d in curated) < before.facts["table_rows"]


def test_incomplete_shards_are_not_shown(tmp_path: Path, demo_run: dict[str, Any]) -> None:
    root = tmp_path / "run"
    with ShardWriter(root / "curated", DIALOGUE) as out:
        out.write(demo_run["good"][:2])
    (done,) = list_shards(root / "curated")
    shutil.copy(done.path, root / "curated" / "part-99999.parquet")  # a shard still being written: no marker yet
    view = RunView(root)
    try:
        assert view.counts()["curated"] == 2
        assert len(view.page(OUTPUTS["curated"], Filters()).rows) == 2
        assert view.record(OUTPUTS["curated"], "curated/part-99999.parquet", 0) is None
    finally:
        view.close()


def test_a_count_over_its_budget_is_dropped_not_waited_for(demo_run: dict[str, Any]) -> None:
    view = RunView(demo_run["root"])
    try:
        t0 = time.perf_counter()
        assert view._run("SELECT count(*) FROM range(100000000000) t(i) WHERE i % 7 = 3", {}, budget_s=0.2) is None
        assert time.perf_counter() - t0 < 5
    finally:
        view.close()


def test_cli_serves_on_loopback_only(demo_run: dict[str, Any]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "distill.cli", "view", str(demo_run["root"])],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        match = re.match(r"distill view: (http://127\.0\.0\.1:(\d+)/) ", line)
        assert match, line
        url, port = match.group(1), int(match.group(2))
        with urllib.request.urlopen(url, timeout=30) as resp:
            assert "Curated dialogues" in resp.read().decode()
        listening = [c for c in psutil.Process(proc.pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", port)]
        # A request naming another host (DNS rebinding) is refused.
        request = urllib.request.Request(url, headers={"Host": f"attacker.example:{port}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 421
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_bad_run_folder_is_one_line(tmp_path: Path, make: str) -> None:
    folder = tmp_path / "not-a-run"
    if make == "empty":
        folder.mkdir()
    out = subprocess.run(
        [sys.executable, "-m", "distill.cli", "view", str(folder)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: {folder}: " + {"missing": "no such run folder", "empty": "not a run folder"}[make]
    )
