"""`distill scorers fit` then `validate` on a planted fixture: the model folder, the exact JSON shape, a learnt
signal."""

from __future__ import annotations

import json
import shutil

import pytest

from distill.cli import main
from distill.config import load_config
from distill.epitome import MECHANISMS
from distill.epitome.classifier import (
    INT8_MIN_SAME_LEVELS,
    EpitomeClassifier,
    cpu_scoring_path,
    int8_layer_names,
    int8_same_levels,
    native_bf16,
    quantize_for,
)
from distill.epitome.provenance import empathy_provenance, provenance_markdown, scoring_phrase


def test_fit_writes_a_plain_hf_folder_with_metrics_and_card(planted_epitome_model):
    folder = planted_epitome_model
    for name in ("config.json", "model.safetensors", "tokenizer.json", "metrics.json", "README.md", "epitome.json"):
        assert (folder / name).is_file(), name
    assert not list(folder.glob("*.bin")) and not list(folder.glob("*.pkl"))  # safetensors only, nothing to unpickle
    config = json.loads((folder / "config.json").read_text())
    assert (
        len(config["id2label"]) == 9
        and config["id2label"]["0"] == "emotional_reactions=0"
        and config["id2label"]["8"] == "explorations=2"
    )
    meta = json.loads((folder / "epitome.json").read_text())
    assert meta["mechanisms"] == list(MECHANISMS) and len(meta["data"]["blake2b"]) == 32 and meta["data"]["rows"] == 160
    metrics = json.loads((folder / "metrics.json").read_text())
    assert (
        metrics["held_out_rows"] == 16 and metrics["train_rows"] == 144 and set(metrics["held_out"]) >= set(MECHANISMS)
    )
    card = (folder / "README.md").read_text()
    assert meta["data"]["blake2b"] in card and "non-commercial" in card and "Held-out agreement" in card
    # The int8 check: how often the int8 CPU path keeps fp32's levels on the held-out split, where auto reads it.
    # The held-out figures come with their bootstrap intervals, and the card says what those are.
    spans = metrics["held_out_intervals"]
    for m in MECHANISMS:
        for key in ("accuracy", "macro_f1", "spearman"):
            low, high = spans[m][key]
            assert low <= metrics["held_out"][m][key] <= high, (m, key)
    assert "In brackets: its 95% interval (percentile bootstrap over the pairs" in card
    assert 0.0 <= meta["int8_same_levels"] <= 1.0 and metrics["int8_same_levels"] == meta["int8_same_levels"]
    assert int8_same_levels(folder) == meta["int8_same_levels"] and f"{meta['int8_same_levels']:.1%}" in card
    # The pairs it trained on, as digests only (never their text), so validate can tell when it is scored on them.
    digests = (folder / "trained_pairs.txt").read_text().split()
    assert len(digests) == len(set(digests)) and all(len(d) == 16 for d in digests)
    assert 0.9 * metrics["train_rows"] < len(digests) <= metrics["train_rows"]  # the fixture repeats a few pairs
    assert "seeker" not in (folder / "trained_pairs.txt").read_text()


def test_validate_json_has_the_fixed_shape_and_the_planted_signal_is_learnt(
    planted_epitome, planted_epitome_model, tmp_path, capsys
):
    out = tmp_path / "validation.json"
    model = tmp_path / "model"
    # Its own copy: validation.json is written beside the model, and other tests read the shared one's card figures.
    shutil.copytree(planted_epitome_model, model)
    assert (
        main(["scorers", "validate", "--data", str(planted_epitome["test"]), "--model", str(model), "--json", str(out)])
        == 0
    )
    result = json.loads(out.read_text())
    assert set(result) == {*MECHANISMS, "scorer", "rows"} and result["rows"] == 60
    for m in MECHANISMS:
        r = result[m]
        assert set(r) == {"accuracy", "macro_f1", "spearman", "confusion"}
        assert (
            len(r["confusion"]) == 3
            and all(len(row) == 3 for row in r["confusion"])
            and sum(map(sum, r["confusion"])) == 60
        )
        # Chance on the planted levels is a Spearman of ~0 and macro-F1 of ~0.33.
        assert r["spearman"] > 0.6 and r["macro_f1"] > 0.5, (m, r)
    printed = capsys.readouterr().out
    assert "emotional reactions" in printed
    # Kept beside the model, so a run's card can cite it, with the path it scored on: a default run's (auto).
    kept = json.loads((model / "validation.json").read_text())
    assert kept["rows"] == 60 and kept["scoring"] == {
        "device": "cpu",
        "quantize": quantize_for("cpu", "auto", int8_same_levels(model)),
    }
    assert f"in {kept['scoring']['quantize']}" in printed
    assert kept["trained_on"] == 0 and "None of these pairs is in the model's training split" in printed
    # Each figure with its 95% interval on the console and beside the model, never in the fixed --json.
    spans = kept["intervals"]
    assert (
        spans["confidence"] == 0.95
        and "Under each figure: its 95% interval (percentile bootstrap over the pairs" in printed
    )
    for m in MECHANISMS:
        low, high = spans[m]["spearman"]
        assert low <= result[m]["spearman"] <= high and f"{low:.2f}-{high:.2f}" in printed
    cfg = load_config(None, ["curate.scorers=[epitome_classifier]", f"curate.epitome_model={model}"])
    card = provenance_markdown(empathy_provenance(cfg))
    low, high = spans["explorations"]["macro_f1"]
    assert f"| explorations | {result['explorations']['accuracy']:.3f}" in card and f"({low:.2f}-{high:.2f})" in card


def test_validate_says_how_many_pairs_the_model_trained_on(planted_epitome, planted_epitome_model, tmp_path, capsys):
    """Validating on the fit's own data is the classic mistake: the figures, the console and the card say so."""
    from distill.report.build import empathy_scorer

    model = tmp_path / "model"
    shutil.copytree(planted_epitome_model, model)
    out = tmp_path / "v.json"
    args = ["scorers", "validate", "--data", str(planted_epitome["train"]), "--model", str(model), "--json", str(out)]
    assert main(args) == 0
    result = json.loads(out.read_text())
    assert set(result) == {*MECHANISMS, "scorer", "rows"}  # the fixed shape stays fixed; the count is kept beside
    kept = json.loads((model / "validation.json").read_text())
    trained = json.loads((model / "metrics.json").read_text())["train_rows"]
    assert kept["rows"] == 160 and kept["trained_on"] == trained == 144  # the 16 held-out pairs were not trained on
    assert "144 of these 160 pairs are in the model's training split" in capsys.readouterr().out
    cfg = load_config(None, ["curate.scorers=[epitome_classifier]", f"curate.epitome_model={model}"])
    provenance = empathy_provenance(cfg)
    assert provenance["validation"]["trained_on"] == 144
    assert "144 of these 160 pairs are in the model's training split" in provenance_markdown(provenance)
    run = tmp_path / "run"
    (run / "stats").mkdir(parents=True)
    (run / "stats" / "curate.json").write_text(json.dumps({"info": {"empathy_scorer": provenance}}))
    assert "144 of these 160 pairs are in the model&#x27;s training split" in empathy_scorer(run)
    # A folder that does not list its pairs (fitted before they were kept) is flagged as unknown, not as clean.
    (model / "trained_pairs.txt").unlink()
    assert main(args) == 0
    assert json.loads((model / "validation.json").read_text())["trained_on"] is None
    assert "does not list the pairs it trained on" in capsys.readouterr().out
    provenance = empathy_provenance(cfg)  # ... and the card and report say it too, rather than nothing
    assert provenance["validation"]["trained_on"] is None
    assert "does not list the pairs it trained on" in provenance_markdown(provenance)
    (run / "stats" / "curate.json").write_text(json.dumps({"info": {"empathy_scorer": provenance}}))
    assert "does not list the pairs it trained on" in empathy_scorer(run)


def test_validate_measures_the_scoring_path_the_config_names(planted_epitome, planted_epitome_model, tmp_path):
    """The figures a card cites are those of the scores a run gives: validate scores on curate.epitome_quantize."""
    from distill.epitome.agreement import agreement
    from distill.epitome.data import read_epitome

    model = tmp_path / "model"
    shutil.copytree(planted_epitome_model, model)
    test = read_epitome(planted_epitome["test"])
    pairs = [(p.seeker, p.response) for p in test.pairs]
    data = str(planted_epitome["test"])
    for path, weights in (("int8", "int8"), ("none", "fp32")):
        out = tmp_path / f"{path}.json"
        args = ["scorers", "validate", "--data", data, "--model", str(model), "--json", str(out)]
        assert main([*args, f"curate.epitome_quantize={path}"]) == 0
        expected = EpitomeClassifier.load(model, device="cpu", quantize=path).predict(pairs)
        result = json.loads(out.read_text())
        assert result == agreement(test, expected, scorer=f"epitome_classifier:{model}")
        kept = json.loads((model / "validation.json").read_text())
        assert kept["scoring"] == {"device": "cpu", "quantize": path}
        assert scoring_phrase(kept["scoring"]) == f"scored on cpu in {weights}"
        # ... and the dataset card of a run scoring with this model says which path its figures are from.
        cfg = load_config(None, ["curate.scorers=[epitome_classifier]", f"curate.epitome_model={model}"])
        card = provenance_markdown(empathy_provenance(cfg))
        assert f"validation.json beside the model, 60 pairs, scored on cpu in {weights}" in card


def test_lexical_scorer_is_validated_the_same_way(planted_epitome, tmp_path, capsys):
    out = tmp_path / "lexical.json"
    assert (
        main(
            [
                "scorers",
                "validate",
                "--data",
                str(planted_epitome["test"]),
                "--scorer",
                "epitome_lexical",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert result["scorer"] == "epitome_lexical" and set(result) == {*MECHANISMS, "scorer", "rows"}
    assert "Under each figure: its 95% interval (percentile bootstrap over the pairs" in capsys.readouterr().out


@pytest.mark.parametrize("path", ["int8", "bf16"])
def test_cpu_fast_paths_give_the_same_levels_as_fp32_on_most_pairs(planted_epitome, planted_epitome_model, path):
    import torch

    from distill.epitome.data import read_epitome

    pairs = [(p.seeker, p.response) for p in read_epitome(planted_epitome["test"]).pairs]
    fp32 = EpitomeClassifier.load(planted_epitome_model, device="cpu")
    fast = EpitomeClassifier.load(planted_epitome_model, device="cpu", quantize=path, batch_size=7)
    unsorted = fp32.logits(pairs, sort_by_length=False)
    assert (fp32.logits(pairs) - unsorted).abs().max() < 1e-4  # length-sorted batches return rows in input order
    fast_logits = fast.logits(pairs)
    assert fast_logits.dtype == torch.float32 and fast_logits.shape == unsorted.shape
    same = sum(a == b for a, b in zip(fp32.predict(pairs), fast.predict(pairs)))
    assert same >= 0.9 * len(pairs) and fast.pairs_scored == 2 * len(pairs)


def test_int8_keeps_the_narrowing_linear_layers_in_fp32(planted_epitome_model):
    """The int8 path quantizes the layers that keep or widen the width and leaves the ones that narrow it (the
    feed-forward down-projections, the head) in fp32, where int8's rounding errors add up most."""
    import torch

    fp32 = EpitomeClassifier.load(planted_epitome_model, device="cpu").model
    int8 = EpitomeClassifier.load(planted_epitome_model, device="cpu", quantize="int8").model
    layers = {n: m for n, m in fp32.named_modules() if isinstance(m, torch.nn.Linear)}
    quantized = dict(int8.named_modules())
    narrowing = {n for n, m in layers.items() if m.in_features > m.out_features}
    assert "classifier" in narrowing and any(n.endswith("output.dense") and "attention" not in n for n in narrowing)
    assert set(int8_layer_names(fp32)) == set(layers) - narrowing
    for name in layers:
        is_int8 = type(quantized[name]) is not torch.nn.Linear  # torch.ao's dynamic quantized Linear
        assert is_int8 == (name not in narrowing), name


def test_auto_leaves_int8_for_a_model_whose_fit_found_it_changing_levels(planted_epitome_model, tmp_path, caplog):
    """Dynamic int8 garbled a 12-layer encoder (fp32's levels on 24% of pairs): auto scores such a model in fp32 on a
    CPU without bf16, and asking for int8 anyway says why it is a bad idea."""
    import logging

    assert cpu_scoring_path(True, 0.1) == "bf16"  # bf16 is nearly lossless: the int8 check does not apply
    assert cpu_scoring_path(False, None) == "int8"  # a folder without the check keeps the fast path
    assert cpu_scoring_path(False, INT8_MIN_SAME_LEVELS) == "int8"
    assert cpu_scoring_path(False, 0.24) == "none"

    model = tmp_path / "model"
    shutil.copytree(planted_epitome_model, model)
    meta = json.loads((model / "epitome.json").read_text())
    (model / "epitome.json").write_text(json.dumps({**meta, "int8_same_levels": 0.24}))
    assert int8_same_levels(model) == 0.24 and int8_same_levels(tmp_path) is None
    # The curate scorer resolves auto against the folder it loads.
    from distill.scorers.epitome_classifier import EpitomeClassifierScorer

    scorer = EpitomeClassifierScorer(str(model))
    assert scorer.classifier.quantize == ("bf16" if native_bf16("cpu") else "none")
    with caplog.at_level(logging.WARNING, logger="distill.epitome.classifier"):
        EpitomeClassifier.load(model, device="cpu", quantize="int8")
    assert "int8 gave fp32's levels on only 24%" in caplog.text and "curate.epitome_quantize=none" in caplog.text


def test_the_int8_path_prints_no_torch_deprecation_chatter(planted_epitome_model):
    """torch warns once per process when int8 layers are made, so the load runs in a fresh one, every warning
    shown."""
    import subprocess
    import sys

    code = (
        "import sys; from distill.epitome.classifier import EpitomeClassifier; "
        "c = EpitomeClassifier.load(sys.argv[1], device='cpu', quantize='int8'); "
        "print(len(c.predict([('I lost my job today.', 'That sounds really hard. What happened?')])))"
    )
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", code, str(planted_epitome_model)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert done.stdout.strip() == "1"
    assert "deprecated" not in done.stderr and "will be removed" not in done.stderr, done.stderr[-2000:]


def test_the_fit_console_carries_no_deepspeed_chatter(planted_epitome, tmp_path):
    """transformers pulls in DeepSpeed (installed for train/), whose accelerator probe warns once per process, so the
    fit runs in a fresh one: the console is our progress and tables only."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "distill.cli", "scorers", "fit", "--data", str(planted_epitome["train"]),
         "--out", str(tmp_path / "model"), "epochs=1", "max_length=32", "batch_size=32", "threads=1"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    console = done.stdout + done.stderr
    assert "held-out split" in console and "DeepSpeed" not in console and "Setting accelerator" not in console, console


def test_fit_is_deterministic_with_a_seed_and_leaves_the_thread_count_alone(planted_epitome, tmp_path):
    import torch

    from distill.epitome.fit import fit, fit_config

    torch.set_num_threads(2)  # fit runs on 1 thread below; the process's own setting must survive it
    settings = fit_config(["epochs=1", "batch_size=16", "max_length=48", "seed=7", "threads=1"])
    first, second = (fit(planted_epitome["train"], tmp_path / name, config=settings) for name in ("a", "b"))
    assert first["epochs"][0]["train_loss"] == second["epochs"][0]["train_loss"]
    assert first["held_out"] == second["held_out"] and first["torch_threads"] == 1
    assert torch.get_num_threads() == 2


def test_a_model_fitted_on_one_mechanism_is_validated_on_that_one_only(planted_epitome, tmp_path):
    from distill.epitome.fit import fit, fit_config

    fit(
        planted_epitome["train"],
        tmp_path / "ex",
        config=fit_config(["mechanisms=[explorations]", "epochs=1", "max_length=48", "threads=1"]),
    )
    out = tmp_path / "ex.json"
    assert (
        main(
            [
                "scorers",
                "validate",
                "--data",
                str(planted_epitome["test"]),
                "--model",
                str(tmp_path / "ex"),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert (
        set(result) == {"explorations", "scorer", "rows"} and sum(map(sum, result["explorations"]["confusion"])) == 60
    )


def test_rationale_spans_become_token_tags_on_the_response_only():
    from transformers import AutoTokenizer

    from distill.embedded import minilm_dir
    from distill.epitome.data import EpitomePair
    from distill.epitome.fit import _token_tags, rationale_mask

    response = "Oh no. I am so sorry you lost him. Take care."
    assert rationale_mask(response, "i am SO sorry|") is not None  # EPITOME's spans differ in case now and then
    assert rationale_mask(response, "The judge says this is warm.") is None  # a free-text rationale names no span
    pair = EpitomePair(
        "s",
        "r",
        "My dog died.",
        response,
        {"emotional_reactions": 2, "explorations": 0},
        {"emotional_reactions": "I am so sorry|"},
    )
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir(), local_files_only=True)
    enc = tokenizer([pair.seeker], [pair.response], return_offsets_mapping=True)
    mechanisms = ("emotional_reactions", "interpretations", "explorations")
    (tags,) = _token_tags([pair], mechanisms, enc["offset_mapping"], [enc.sequence_ids(0)])
    words = tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    tagged = [w for w, t in zip(words, tags) if t[0] == 1]
    assert tagged == ["i", "am", "so", "sorry"]
    seq = enc.sequence_ids(0)
    assert all(t == [-100] * 3 for t, s in zip(tags, seq) if s != 1)  # seeker and special tokens teach nothing
    assert all(
        t[1] == -100 and t[2] == 0 for t, s in zip(tags, seq) if s == 1
    )  # unlabelled IP ignored; EX 0: all outside
