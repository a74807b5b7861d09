"""report.html: every section from a populated run folder, notes instead of failures when inputs are missing, and it
renders in Chromium."""

from __future__ import annotations

import re
import struct
from pathlib import Path

from distill.report import build_report

SECTIONS = (
    "evaluation",
    "per-emotion",
    "dataset",
    "funnel",
    "empathy-scorer",
    "lengths",
    "scores",
    "training",
    "examples",
)


def test_populated_run_has_every_plot_and_escapes_text(populated_run: Path) -> None:
    path = build_report(populated_run)
    assert path == populated_run / "report.html"
    html = path.read_text()
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in html
    assert 'class="missing"' not in html
    # emotions, strategies, funnel, drops, 2 length histograms, 2 score histograms, loss, per-emotion, per-polarity,
    # mean scores
    assert html.count("data:image/png;base64,") == 12
    funnel = re.search(r'<section id="funnel">.*?</section>', html).group(0)  # type: ignore[union-attr]
    assert [int(n) for n in re.findall(r"<td>(\d+)</td>", funnel)] == [70, 60, 60, 50, 48, 40]
    assert "<script" not in html and "says &lt;i&gt;hi&lt;/i&gt;" in html and "&lt;b&gt;not bold&lt;/b&gt;" in html
    assert "http://" not in html and "https://" not in html  # self-contained: nothing fetched
    scorer = re.search(r'<section id="empathy-scorer">.*?</section>', html).group(0)  # type: ignore[union-attr]
    assert (
        "epitome_classifier" in scorer
        and "505 pairs, scored on cpu in bf16" in scorer
        and "<td>emotional reactions</td><td>0.810</td><td>0.770</td>" in scorer
    )
    assert re.search(r"<td>judge failed|judge failed</th>", html)
    # per-emotion numbers behind the bars: sad was Bad for base, Good for student and teacher; afraid's base reply
    # unreadable
    assert (
        "<tr><td>sad</td><td>1</td><td>0.00/0.00/1.00</td><td>1.00/0.00/0.00</td><td>1.00/0.00/0.00</td><td>0</td>"
        in html
    )
    assert "<tr><td>afraid</td><td>1</td><td>–/–/–</td>" in html


def test_missing_inputs_become_notes_not_failures(tmp_path: Path) -> None:
    run = tmp_path / "empty-run"
    run.mkdir()
    html = build_report(run).read_text()
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in html
    assert "eval.json is missing" in html and "curate.json is missing" in html and "train.json is missing" in html
    assert "data:image/png" not in html


def test_malformed_input_costs_one_section(populated_run: Path) -> None:
    (populated_run / "stats" / "train.json").write_text('{"info": {"loss_curve": [{"step": 1, "loss": "nan?"}]}}')
    html = build_report(populated_run).read_text()
    assert "This section could not be rendered: ValueError" in html
    assert html.count("data:image/png;base64,") == 11  # everything but the loss curve


def test_renders_in_headless_chromium(populated_run: Path, chromium, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = chromium.load(build_report(populated_run).resolve().as_uri())
    assert page.console_errors == []
    assert page.facts["sections"] == len(SECTIONS)
    assert page.facts["images"] == 12 and page.facts["broken"] == 0
    assert page.facts["title"].startswith("Empathy distillation report")
    png = page.screenshot_png
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 1000 and height >= 2000  # the whole page, not an empty viewport
    (tmp_path / "report.png").write_bytes(png)  # kept in pytest's tmp folder for a look when it fails


def test_chromium_reports_console_errors(chromium, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The check above could pass vacuously if errors were never collected; a page that logs one proves they are.
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><link rel='icon' "
        "href='data:,'></head><body><script>console.error('boom')</script></body></html>"
    )
    page = chromium.load(bad.as_uri())
    assert any("boom" in e for e in page.console_errors)
