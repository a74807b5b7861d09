"""The curate stage end to end on a run folder: filters, scorers, global dedup across shards, windows, pairs, card."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from distill.config import load_config
from distill.curate import run_curate
from distill.curate.windows import export_soulchat
from distill.emotions import OPPOSITE
from distill.errors import InputError, RunStateError
from distill.records import scores_dict
from distill.run_dir import RunDir
from distill.seeds.soulchat import parse_transcript
from distill.shards import count_rows, iter_rows, read_table
from distill.stats import read_stats
from tests.support.curated import (
    PARAPHRASE_OF_JOYFUL,
    bad_dialogues,
    dialogue,
    good_dialogues,
    near_copy,
    write_generated,
)


@pytest.fixture(scope="module")
def curated_run(tmp_path_factory):
    """One real curate run shared by the assertions below (MiniLM semantic pass on)."""
    root = tmp_path_factory.mktemp("runs")
    cfg = load_config(
        None,
        [f"run.output_dir={root}", "run.name=c", "curate.rows_per_shard=4", "curate.preference_method=cross_dialogue"],
    )
    good = good_dialogues()
    # Planted duplicates, each in a different shard from its original.
    exact_copy = dict(good[0], id="zz-exact-copy-of-lonely")
    exact_copy["scores"] = {}
    near = near_copy(good[2], "near-copy-of-anxious")
    para = dialogue("joyful", PARAPHRASE_OF_JOYFUL, key="paraphrase-of-joyful")
    bad = bad_dialogues()
    write_generated(
        cfg, [good[:3] + [b for _, b in bad[:3]], good[3:] + [exact_copy], [near, para] + [b for _, b in bad[3:]]]
    )
    stats = run_curate(cfg)
    return cfg, stats, good, bad, {"exact": exact_copy, "near": near, "para": para}


def test_counts_add_up(curated_run):
    cfg, stats, good, bad, planted = curated_run
    run = RunDir(cfg)
    c = stats.counters
    n_in = len(good) + len(bad) + len(planted)
    assert c["dialogues_in"] == n_in
    assert c["curated"] + c["rejected"] == n_in
    assert count_rows(run.curated) + count_rows(run.rejects("curate")) == n_in
    assert c["rejected"] == sum(v for k, v in c.items() if k.startswith("dropped/"))
    assert read_stats(run.root, "curate")["counters"] == dict(sorted(c.items()))


def test_every_bad_dialogue_is_rejected_with_its_reason(curated_run):
    cfg, stats, _, bad, _ = curated_run
    rejects = {r["id"]: r for r in iter_rows(RunDir(cfg).rejects("curate"))}
    for reason, d in bad:
        assert rejects[d["id"]]["reason"] == reason, rejects[d["id"]]["detail"]
        assert rejects[d["id"]]["stage"] == "curate" and json.loads(rejects[d["id"]]["record"])["id"] == d["id"]
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", r["reason"]) for r in rejects.values())
    assert stats.counters["dropped/safety/crisis_without_referral"] == 1


def test_planted_duplicates_across_shards_are_dropped_for_their_keeper(curated_run):
    cfg, stats, good, _, planted = curated_run
    run = RunDir(cfg)
    rejects = {r["id"]: r for r in iter_rows(run.rejects("curate"))}
    curated = {r["id"]: scores_dict(r["scores"]) for r in iter_rows(run.curated, columns=["id", "scores"])}
    for original, copy, reason in (
        (good[0], planted["exact"], "exact_duplicate"),
        (good[2], planted["near"], "near_duplicate"),
        (good[1], planted["para"], "semantic_duplicate"),
    ):
        pair = {original["id"], copy["id"]}
        (loser,) = pair & set(rejects)  # exactly one of the two is dropped...
        (keeper,) = pair & set(curated)  # ...and the other is kept
        assert rejects[loser]["reason"] == reason and f"duplicate of {keeper}" in rejects[loser]["detail"]
        # Keeper rule: highest empathy, then the smallest id.
        loser_empathy = scores_dict(json.loads(rejects[loser]["record"])["scores"])["empathy"]
        keeper_empathy = curated[keeper]["empathy"]
        assert keeper_empathy > loser_empathy or (keeper_empathy == loser_empathy and keeper < loser)
    # Every other good dialogue survives.
    assert {d["id"] for d in good[3:]} <= set(curated)
    assert stats.counters["curated"] == len(good)


def test_curated_rows_carry_scores(curated_run):
    cfg, *_ = curated_run
    for row in iter_rows(RunDir(cfg).curated):
        scores = scores_dict(row["scores"])
        assert {"empathy", "epitome_er", "strategy_coverage", "valence_shift"} <= set(scores)
        assert 0.0 <= scores["empathy"] <= 6.0


def test_sample_windows_one_per_supporter_turn_and_soulchat_export(curated_run, tmp_path):
    cfg, stats, *_ = curated_run
    run = RunDir(cfg)
    dialogues = {r["id"]: r for r in iter_rows(run.curated)}
    windows = list(iter_rows(run.samples))
    assert (
        len(windows)
        == stats.counters["samples"]
        == sum(sum(m["role"] == "assistant" for m in d["messages"]) for d in dialogues.values())
    )
    for w in windows:
        d = dialogues[w["dialogue_id"]]
        assert w["context"] == d["messages"][: w["turn"]] and w["response"] == d["messages"][w["turn"]]["content"]
        assert w["context"][-1]["role"] == "user"
    out = tmp_path / "soulchat.jsonl"
    assert export_soulchat(run.samples, out) == len(windows)
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert first["input"].endswith("心理咨询师：")
    # The seeds loader reads it back: the export is SoulChat's own transcript form.
    w0 = next(w for w in windows if w["id"] == first["id"])
    assert parse_transcript(first["input"])[:-1] == w0["context"] and first["target"] == w0["response"]


def test_preference_pairs_reject_a_reply_grounded_in_the_opposite_emotion(curated_run):
    cfg, stats, *_ = curated_run
    run = RunDir(cfg)
    pairs = list(iter_rows(run.prefs))
    assert pairs and len(pairs) == stats.counters["preference_pairs"]
    replies = {}
    for d in iter_rows(run.curated):
        replies.setdefault(d["emotion"], set()).add(
            next(m["content"] for m in d["messages"] if m["role"] == "assistant")
        )
    for p in pairs:
        assert p["method"] == "cross_dialogue" and p["rejected_emotion"] == OPPOSITE[p["emotion"]]
        assert p["chosen"] in replies[p["emotion"]] and p["rejected"] in replies[p["rejected_emotion"]]
        assert p["prompt"][-1]["role"] == "user"
    # Every emotion here has its opposite curated too, so every curated dialogue has a pair.
    assert len(pairs) == stats.counters["curated"] and not stats.by_prefix("prefs/skipped")


def test_every_output_row_keeps_its_licence_and_the_card_names_the_mix(curated_run):
    cfg, _, good, _, planted = curated_run
    run = RunDir(cfg)
    licence_of = {d["id"]: (d["source"], d["license"]) for d in [*good, *planted.values()]}
    curated = list(iter_rows(run.curated, columns=["id", "source", "license"]))
    assert {r["license"] for r in curated} == {"Apache-2.0", "CC-BY-NC-4.0"}
    assert all((r["source"], r["license"]) == licence_of[r["id"]] for r in curated)
    samples = list(iter_rows(run.samples, columns=["dialogue_id", "license"]))
    assert samples and all(w["license"] == licence_of[w["dialogue_id"]][1] for w in samples)
    pairs = list(iter_rows(run.prefs, columns=["dialogue_id", "method", "license"]))
    assert pairs
    for pair in pairs:
        parts = set(pair["license"].split(" AND "))
        assert licence_of[pair["dialogue_id"]][1] in parts <= {"Apache-2.0", "CC-BY-NC-4.0"}
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(run.path("dataset_card.md"))
    assert card.data.license == "other" and card.data.license_name == "Apache-2.0 AND CC-BY-NC-4.0"
    assert "contains records from a non-commercial source" in card.text
    assert "| dialogues | CC-BY-NC-4.0 |" in card.text and "| samples | Apache-2.0 |" in card.text


def _card_folder(run: RunDir, folder, subs=("curated", "samples", "prefs")):
    for sub in subs:
        shutil.copytree(run.path(sub), folder / sub, ignore=shutil.ignore_patterns("_done"))
    shutil.copy(run.path("dataset_card.md"), folder / "README.md")
    return folder


def test_dataset_card_is_read_by_datasets(curated_run, tmp_path):
    import datasets
    from huggingface_hub import DatasetCard

    cfg, stats, *_ = curated_run
    run = RunDir(cfg)
    card = DatasetCard.load(run.path("dataset_card.md"))
    assert {c["config_name"] for c in card.data.configs} == {"dialogues", "samples", "preferences"}
    assert "crisis_without_referral" in card.text and cfg.stage_hash() in card.text and "| lonely | 1 |" in card.text
    # Copied as README.md next to the data, `datasets` resolves the configs from the header alone.
    folder = _card_folder(run, tmp_path / "ds")
    # Its own cache: the shared one is keyed by folder name and file names, so another run's rows would come back.
    cache = str(tmp_path / "hf-cache")
    assert (
        datasets.load_dataset(str(folder), "samples", split="train", cache_dir=cache).num_rows
        == stats.counters["samples"]
    )
    assert (
        datasets.load_dataset(str(folder), "preferences", split="train", cache_dir=cache).num_rows
        == stats.counters["preference_pairs"]
    )


def test_dialogues_config_loads_with_datasets(curated_run, tmp_path):
    import datasets

    from distill.records import scores_dict

    cfg, stats, *_ = curated_run
    folder = _card_folder(RunDir(cfg), tmp_path / "ds", subs=("curated",))
    ds = datasets.load_dataset(str(folder), split="train", cache_dir=str(tmp_path / "hf-cache"))  # the default config
    assert ds.num_rows == stats.counters["curated"]
    assert "empathy" in scores_dict(ds[0]["scores"])


def test_rerun_is_a_no_op_and_a_changed_config_is_refused(curated_run):
    cfg, stats, *_ = curated_run
    run = RunDir(cfg)
    before = read_table(run.curated).num_rows
    again = run_curate(cfg)
    assert again.counters["curated"] == stats.counters["curated"] and read_table(run.curated).num_rows == before
    same = [
        f"run.output_dir={cfg.run.output_dir}",
        "run.name=c",
        "curate.rows_per_shard=4",
        "curate.preference_method=cross_dialogue",
    ]
    changed = load_config(None, [*same, "curate.min_turns=6"])
    with pytest.raises(RunStateError, match="different config"):
        run_curate(changed)


def test_no_generated_shards_is_an_input_error(run_cfg):
    with pytest.raises(InputError, match="no generated shards"):
        run_curate(run_cfg)


def test_teacher_preference_pairs_and_unparseable_judge_replies_through_a_real_backend(tmp_path):
    """The dryrun backend (deterministic filler text) as teacher: pairs get a teacher-written rejected reply; as judge,
    its
    non-JSON replies reject every dialogue with `judge_unparseable` and the counts still add up."""
    overrides = [
        f"run.output_dir={tmp_path}",
        "teacher.backend=dryrun",
        "teacher.placement=local",
        "curate.semantic_threshold=null",
    ]
    cfg = load_config(None, [*overrides, "run.name=pairs", "curate.preference_method=teacher"])
    write_generated(cfg, [good_dialogues()])
    stats = run_curate(cfg)
    pairs = list(iter_rows(RunDir(cfg).prefs))
    assert len(pairs) == stats.counters["curated"] == len(good_dialogues())
    assert all(
        p["method"] == "teacher"
        and p["rejected"].startswith("DRYRUN")
        and p["rejected_emotion"] == OPPOSITE[p["emotion"]]
        for p in pairs
    )

    judged = load_config(None, [*overrides, "run.name=judged", "curate.scorers=[epitome_lexical, llm_judge]"])
    write_generated(judged, [good_dialogues()[:3], good_dialogues()[3:]])
    stats = run_curate(judged)
    c = stats.counters
    assert c["dropped/score_llm_judge/judge_unparseable"] == c["dialogues_in"] == c["rejected"] == len(good_dialogues())
    assert c["curated"] == 0 and count_rows(RunDir(judged).rejects("curate")) == c["dialogues_in"]
    assert all("no JSON object" in r["detail"] for r in iter_rows(RunDir(judged).rejects("curate")))


def test_auto_pairs_take_another_dialogues_reply_where_one_exists_and_the_teachers_otherwise(tmp_path):
    """The default method on the dryrun teacher: afraid/confident and anxious/nostalgic pair with each other, exactly as
    `cross_dialogue` pairs them; lonely and joyful, whose opposites (hopeful, sad) are missing, get the teacher's
    reply."""
    from distill.curate.prefs import cross_dialogue_pairs
    from distill.stats import StageStats

    cfg = load_config(
        None,
        [
            f"run.output_dir={tmp_path}",
            "run.name=auto",
            "teacher.backend=dryrun",
            "teacher.placement=local",
            "curate.semantic_threshold=null",
            "generate.sampling.max_tokens=24",
        ],
    )
    assert cfg.curate.preference_method == "auto"
    six = good_dialogues()[:6]  # without hopeful and sad
    write_generated(cfg, [six[:3], six[3:]])
    c = run_curate(cfg).counters
    run = RunDir(cfg)
    pairs = {p["emotion"]: p for p in iter_rows(run.prefs)}
    assert {e: p["method"] for e, p in pairs.items()} == {
        "lonely": "teacher", "joyful": "teacher", "anxious": "cross_dialogue", "nostalgic": "cross_dialogue",
        "afraid": "cross_dialogue", "confident": "cross_dialogue",
    }  # fmt: skip
    assert all(p["rejected_emotion"] == OPPOSITE[e] for e, p in pairs.items())
    assert pairs["lonely"]["rejected"].startswith("DRYRUN") and pairs["lonely"]["license"] == "Apache-2.0"
    assert (
        (c["prefs/method/cross_dialogue"], c["prefs/method/teacher"], c["preference_pairs"])
        == (4, 2, 6)
        == (4, 2, c["curated"])
    )
    cross_only = {p["dialogue_id"]: p for p in cross_dialogue_pairs(run.curated, StageStats("curate"))}
    assert all(cross_only[p["dialogue_id"]] == p for p in pairs.values() if p["method"] == "cross_dialogue")
    card = run.path("dataset_card.md").read_text()
    assert (
        "method `auto`" in card
        and "4 cross_dialogue, 2 teacher" in card
        and "| preference pairs: teacher | 2 |" in card
    )


def test_a_rejected_reply_is_cleaned_like_a_generated_turn():
    from distill.curate.prefs import _rejected_text
    from distill.prompts.parse import ParseError
    from distill.teachers.base import TeacherResult

    cut = TeacherResult("r", "Supporter: That sounds like a lot to carry. I wonder whether you", "length")
    assert _rejected_text(cut) == "That sounds like a lot to carry."
    assert _rejected_text(TeacherResult("r", "I hear you.\nSeeker: thanks", "stop")) == "I hear you."
    for bad, code in (
        (TeacherResult("r", None, None, error="timeout"), "failed"),
        (TeacherResult("r", "so I", "length"), "truncated"),
    ):
        with pytest.raises(ParseError) as info:
            _rejected_text(bad)
        assert info.value.code == code


def test_an_interrupted_stage_restarts_clean_without_duplicates(tmp_path):
    from distill.atomic import atomic_write_json

    cfg = load_config(
        None,
        [
            f"run.output_dir={tmp_path}",
            "run.name=again",
            "curate.semantic_threshold=null",
            "curate.preference_method=cross_dialogue",
        ],
    )
    good = good_dialogues()
    write_generated(cfg, [good[:3], good[3:] + [near_copy(good[0], "dup")]])
    first = run_curate(cfg).counters
    run = RunDir(cfg)
    # As if the process died after writing outputs but before marking the stage done.
    marker = run.path("stages", "curate.json")
    atomic_write_json(marker, {**json.loads(marker.read_text()), "done": False})
    second = run_curate(cfg).counters
    assert second == first
    assert count_rows(run.curated) == first["curated"] and count_rows(run.rejects("curate")) == first["rejected"] == 1
    assert count_rows(run.samples) == first["samples"]
