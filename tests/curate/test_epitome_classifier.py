"""Curation with the trained EPITOME classifier: on Ray actors (model loaded once per actor, every dialogue scored
once, counted), the same scores as in-process, and the card naming the scorer with its validation figures."""

from __future__ import annotations

import pytest

from distill.config import load_config
from distill.curate.stage import run_curate
from distill.epitome.classifier import EpitomeClassifier
from distill.records import scores_dict
from distill.run_dir import RunDir
from distill.shards import iter_rows
from distill.text.turns import Dialogue
from tests.support.curated import good_dialogues, near_copy, write_generated


def _cfg(tmp_path, name, model, *extra):
    return load_config(
        None,
        [
            f"run.output_dir={tmp_path}",
            f"run.name={name}",
            "curate.semantic_threshold=null",
            "curate.scorers=[epitome_classifier, strategy_coverage]",
            f"curate.epitome_model={model}",
            # fp32: a pair's levels do not depend on its batch (dynamic int8 scales activations per batch)
            "curate.epitome_quantize=none",
            "curate.preference_method=cross_dialogue",  # pairs are not what this tests: no teacher engine for them
            *extra,
        ],
    )


def _scores(cfg):
    return {r["id"]: scores_dict(r["scores"]) for r in iter_rows(RunDir(cfg).curated)}


@pytest.mark.slow
def test_ray_actors_load_the_model_once_each_and_score_every_dialogue_once(tmp_path, planted_epitome_model):
    good = good_dialogues()
    shards = [good[:2], good[2:4], good[4:], [near_copy(good[0], "copy")]]
    on_ray = _cfg(tmp_path, "onray", planted_epitome_model, "curate.executor=ray", "curate.classifier_actors=2")
    write_generated(on_ray, shards)
    c = run_curate(on_ray).counters
    assert c["dialogues_in"] == 9 and c["passed_filters"] == 9
    assert c["scored/epitome_classifier"] == 9  # each dialogue once, across 4 shards on 2 actors
    assert c["model_loads"] == 2  # one load per actor, not per shard
    assert c["curated"] + c["rejected"] == 9

    local = _cfg(tmp_path, "local", planted_epitome_model, "curate.executor=local")
    write_generated(local, shards)
    assert run_curate(local).counters["scored/epitome_classifier"] == 9
    ray_scores, local_scores = _scores(on_ray), _scores(local)
    assert ray_scores.keys() == local_scores.keys() and len(ray_scores) == 8  # the near copy is deduplicated
    for key in ("epitome_er", "epitome_ip", "epitome_ex", "empathy"):
        assert [ray_scores[i][key] for i in sorted(ray_scores)] == [local_scores[i][key] for i in sorted(local_scores)]

    # The scores are the classifier's: mean levels over each dialogue's (seeker, supporter) pairs.
    model = EpitomeClassifier.load(planted_epitome_model, device="cpu", quantize="none")
    for row in iter_rows(RunDir(local).curated):
        levels = model.predict(Dialogue.of(row).response_pairs)
        s = scores_dict(row["scores"])
        assert s["epitome_er"] == pytest.approx(sum(lv[0] for lv in levels) / len(levels))
        assert s["empathy"] == pytest.approx(s["epitome_er"] + s["epitome_ip"] + s["epitome_ex"])

    card = RunDir(local).path("dataset_card.md").read_text()
    assert (
        "Scorer: `epitome_classifier`" in card
        and "the fit's held-out split (metrics.json)" in card
        and "| explorations |" in card
    )


def test_lexical_and_classifier_together_are_refused(tmp_path):
    from distill.errors import ConfigError

    with pytest.raises(ConfigError, match="both write epitome_"):
        load_config(None, ["curate.scorers=[epitome_lexical, epitome_classifier]", f"curate.epitome_model={tmp_path}"])
    with pytest.raises(ConfigError, match="needs epitome_model"):
        load_config(None, ["curate.scorers=[epitome_classifier]"])
