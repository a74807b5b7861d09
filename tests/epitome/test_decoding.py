"""Level offsets: rare levels get their share of predictions on unseen scores, without labels, and the model folder
applies them."""

from __future__ import annotations

import json
import shutil

import torch

from distill.epitome import MECHANISMS
from distill.epitome.classifier import EpitomeClassifier
from distill.epitome.decoding import decode, prior_offsets, training_prior


def _shy_logits(n: int = 400, seed: int = 0) -> torch.Tensor:
    """Scores of a model that never names the middle level by argmax: its logit always trails the best one."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn((n, 3), generator=g)
    z[:, 1] = z[:, [0, 2]].max(-1).values - torch.rand(n, generator=g) * 2 - 0.01
    return z


def test_offsets_give_a_rare_level_its_training_share_and_never_take_one_away():
    z = _shy_logits()
    assert int((z.argmax(-1) == 1).sum()) == 0
    prior = [0.6, 0.05, 0.35]
    offsets = prior_offsets(z, prior)
    predicted = decode(z[:, None, :], [offsets])[:, 0]
    share = float((predicted == 1).float().mean())
    assert 0.045 <= share <= 0.06, share
    assert offsets[0] == 0.0 and offsets[1] > 0  # the most common level is never moved
    # Level 2 is named by argmax on about half the pairs, more than its 35%: its offset stays 0, no decision flips.
    assert offsets[2] == 0.0


def test_offsets_are_zero_when_argmax_already_names_each_level_often_enough():
    z = torch.eye(3).repeat(50, 1) * 5  # a third of the pairs at each level, confidently
    assert prior_offsets(z, [0.5, 0.2, 0.3]) == [0.0, 0.0, 0.0]
    assert prior_offsets(torch.empty((0, 3)), [0.5, 0.2, 0.3]) == [0.0, 0.0, 0.0]


def test_a_level_the_labels_never_use_is_not_invented():
    z = _shy_logits()
    assert prior_offsets(z, [0.7, 0.0, 0.3])[1] == 0.0


def test_training_prior_leaves_unlabelled_pairs_out():
    assert training_prior([0, 0, 1, 2, -1, -1]) == [0.5, 0.25, 0.25]


def test_decode_without_offsets_is_argmax():
    z = torch.randn((7, 3, 3))
    assert torch.equal(decode(z, None), z.argmax(-1))


def test_fit_stores_the_offsets_and_the_classifier_applies_them(planted_epitome, planted_epitome_model, tmp_path):
    meta = json.loads((planted_epitome_model / "epitome.json").read_text())
    assert set(meta["level_offsets"]) == set(MECHANISMS)
    assert all(len(o) == 3 and min(o) >= 0 for o in meta["level_offsets"].values())
    assert all(abs(sum(p) - 1) < 1e-9 for p in meta["training_prior"].values())
    metrics = json.loads((planted_epitome_model / "metrics.json").read_text())
    assert set(metrics["held_out_argmax"]) >= set(MECHANISMS)
    card = (planted_epitome_model / "README.md").read_text()
    assert "level_offsets" in card and "distill scorers validate" in card  # where the figure to quote comes from

    # An offset far above any logit gap makes that level every pair's level: predict reads epitome.json's offsets.
    model = tmp_path / "model"
    shutil.copytree(planted_epitome_model, model)
    meta["level_offsets"]["interpretations"] = [0.0, 1000.0, 0.0]
    (model / "epitome.json").write_text(json.dumps(meta))
    pairs = [("I lost my job today.", "That must be so hard. What happened?")] * 3
    levels = EpitomeClassifier.load(model, device="cpu").predict(pairs)
    assert [lv[1] for lv in levels] == [1, 1, 1]
    plain = EpitomeClassifier.load(planted_epitome_model, device="cpu")
    assert plain.levels(plain.logits(pairs)) == plain.predict(pairs)
