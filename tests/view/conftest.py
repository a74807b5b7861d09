"""Viewer fixtures: a small demo-config run folder curated for real and a viewer serving it on loopback (the browser is
the suite-wide `chromium` fixture).

The run is built the cheap way the curate tests build theirs: hand-written generated dialogues (tests.support.curated)
written as shards, the seeds they came from, then the real curate stage (local executor, no MiniLM pass). It is made
once
per session; nothing here writes to it afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from distill.config import load_config
from distill.curate import run_curate
from distill.records import REJECT, SEED, make_reject
from distill.run_dir import RunDir
from distill.shards import ShardWriter
from tests.support.curated import GOOD, bad_dialogues, dialogue, good_dialogues, write_generated

MARKUP = '<script>console.error("xss")</script><img src=x onerror=alert(1)>'


def _seed(seed_id: str, emotion: str | None, situation: str) -> dict[str, Any]:
    return {
        "id": seed_id,
        "source": "chat",
        "language": "en",
        "emotion": emotion,
        "situation": situation,
        "messages": [
            {"role": "user", "content": f"Seed opening: {situation}"},
            {"role": "assistant", "content": "I'm listening."},
        ],
        "metadata": "{}",
        "license": "Apache-2.0",
    }


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo config's curate stage over 6 good dialogues, 6 bad ones, one carrying markup and a copy; seeds for
    each."""
    root = tmp_path_factory.mktemp("view-runs")
    cfg = load_config(
        "demo",
        [
            f"run.output_dir={root}",
            "run.name=demo",
            "curate.executor=local",
            "curate.semantic_threshold=null",
            "curate.rows_per_shard=3",
        ],
    )
    good = good_dialogues()
    bad = [d for _, d in bad_dialogues()]
    texts = list(GOOD[0][1])
    texts[0] += " " + MARKUP  # shown in list pages (the opening) and on its own page, as text
    texts[1] = "As an AI language model I cannot feel. " + texts[1]  # rejected (ai_disclaimer)
    marked = dialogue("lonely", texts, key="markup")
    copy = dict(good[0], id="zz-exact-copy")  # dedup drops it after scoring: its reject row carries its scores
    write_generated(cfg, [good[:3] + bad[:3], good[3:] + [marked], bad[3:] + [copy]])
    run = RunDir(cfg)
    dialogues = [*good, *bad, marked]
    # Every dialogue's seed, the last two in the holdout; a seeds-stage reject so rejects span two stages.
    with ShardWriter(run.seeds, SEED) as seeds, ShardWriter(run.holdout, SEED) as holdout:
        for i, d in enumerate(dialogues):
            situation = MARKUP if d is marked else f"situation of {d['emotion']} #{i}"
            (holdout if i >= len(dialogues) - 2 else seeds).write([_seed(d["seed_id"], d["emotion"], situation)])
    with ShardWriter(run.rejects("seeds"), REJECT) as out:
        out.write(
            [
                make_reject(
                    "seeds",
                    "empty_turns",
                    "turn 2 is empty",
                    record_id="seed-x",
                    source_file="seeds.jsonl",
                    source_row=7,
                )
            ]
        )
    run_curate(cfg)
    return {"root": run.root, "good": good, "bad": bad, "marked": marked, "copy": copy}


@pytest.fixture(scope="session")
def viewer(demo_run: dict[str, Any]) -> Iterator[Any]:
    from distill.view.server import ViewServer

    server = ViewServer(demo_run["root"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
