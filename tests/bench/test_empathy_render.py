"""bench/empathy_agreement's page: every CPU scoring path is shown beside fp32, and the one `auto` picks is named."""

from __future__ import annotations

import json

from bench.empathy_agreement import CPU_PATHS, render, rerender
from distill.epitome import MECHANISMS


def _cells(value: float) -> dict[str, dict[str, float]]:
    return {m: {"accuracy": value, "macro_f1": value, "spearman": value} for m in MECHANISMS}


def _classifier(folds_run: list[int], **paths: dict) -> dict:
    """The classifier part of a report: fp32 figures 0.7 on every fold run, plus `paths` (bf16, int8, argmax)."""
    return {
        **_cells(0.7),
        **paths,
        "folds_run": folds_run,
        "fit_seconds": [600.0] * len(folds_run),
        "fit_settings": ["epochs=8"],
        "per_fold": {str(k): _cells(0.7) for k in folds_run},
    }


def _report(lexical: dict, classifier: dict, **more: dict) -> dict:
    return {
        "data": {"source": "data", "rows": 10, "blake2b": "ab" * 16},
        "folds": 5,
        "machine": "x86_64, 2 cores",
        "repeats": 3,
        "lexical": lexical,
        "classifier": classifier,
        **more,
    }


def test_render_lists_each_cpu_path_with_its_speed_and_agreement():
    rates = {"plain_fp32": 10.0, "sorted_fp32": 20.0, "sorted_bf16": 50.0, "sorted_int8": 40.0}
    report = _report(
        {**_cells(0.5), "unseen": _cells(0.4), "unseen_folds": [4]},
        _classifier([4], bf16=_cells(0.7), int8=_cells(0.6), argmax=_cells(0.65)),
        throughput={
            "pairs": 10,
            "threads": 2,
            "load_s": {"fp32": 0.1, "bf16": 0.1, "int8": 0.2},
            "pairs_per_s": rates,
            "speedup_vs_plain": {k: v / 10.0 for k, v in rates.items()},
            "fp32_agreement": _cells(0.7),
            "cpu_default": "bf16",
            "bf16_same_levels": 1.0,
            "int8_same_levels": 0.88,
            "bf16_agreement": _cells(0.7),
            "int8_agreement": _cells(0.6),
        },
    )
    page = render(report, "python -m bench.empathy_agreement")
    rows = [line for line in page.splitlines() if line.startswith("| sorted_")]
    assert [row.split(" | ")[0] for row in rows] == ["| sorted_fp32", *(f"| sorted_{p}" for p in CPU_PATHS)]
    assert "| sorted_bf16 | 50.0 | 5.0x |" in page
    assert "| classifier bf16 (the CPU default here) | 0.700 / 0.700 / 0.700" in page
    assert "| classifier int8 | 0.600 / 0.600 / 0.600" in page
    assert "bf16 100.0%, int8 88.0% of pairs" in page
    assert "Machine: x86_64, 2 cores, bf16 in hardware." in page  # it sets the fit's precision, so its time
    report["throughput"]["cpu_default"] = "int8"
    assert "Machine: x86_64, 2 cores, no bf16 in hardware." in render(report, "python -m bench.empathy_agreement")


def test_render_shows_the_lexical_figures_on_unseen_folds_and_the_plain_argmax_beside_the_offsets():
    report = _report(
        {**_cells(0.5), "unseen": _cells(0.4), "unseen_folds": [4]}, _classifier([0, 1, 2, 3, 4], argmax=_cells(0.65))
    )
    page = render(report, "python -m bench.empathy_agreement")
    assert "| epitome_lexical (cue rules) | 0.500 / 0.500 / 0.500 |" in page and "cues tuned on folds 0-3" in page
    assert "| epitome_lexical, unseen folds only | 0.400 / 0.400 / 0.400 |" in page and "fold(s) 4: not read" in page
    assert "| epitome_classifier, fp32, plain argmax (no level offsets) | 0.650 / 0.650 / 0.650 |" in page


def test_a_run_from_before_level_offsets_keeps_its_plain_label_and_rerender_picks_up_the_run_log(tmp_path):
    report = _report(_cells(0.5), _classifier([4]))  # no argmax figure: the runs before level offsets
    (tmp_path / "empathy.json").write_text(json.dumps(report))
    (tmp_path / "empathy.md").write_text(
        "# old page\n\nCommand: `python -m bench.empathy_agreement --classifier-folds 5`\n"
    )
    (tmp_path / "empathy_runs.md").write_text("**Other runs** a new entry\n")
    page = rerender(tmp_path).read_text()
    assert "| epitome_classifier (MiniLM fine-tuned, multi-task), fp32 scoring | 0.700 / 0.700 / 0.700" in page
    assert "level offsets" not in page
    assert "Machine: x86_64, 2 cores." in page  # no speed run, so nothing said of bf16
    assert "Command: `python -m bench.empathy_agreement --classifier-folds 5`" in page
    assert page.rstrip().endswith("**Other runs** a new entry")


def test_render_gives_the_folds_standard_error_and_the_pooled_figures_with_their_intervals():
    """The 5-fold mean says how far it could move: the folds' standard error, and the pooled out-of-fold figures
    (from the summed confusions) with bootstrap intervals that a goal can be read against."""
    classifier = _classifier([0, 1, 2, 3, 4])
    for k, value in enumerate((0.6, 0.7, 0.7, 0.7, 0.8)):
        classifier["per_fold"][str(k)]["emotional_reactions"]["macro_f1"] = value
    classifier["emotional_reactions"]["confusion"] = [[50, 0, 0], [0, 30, 0], [0, 0, 20]]  # every pair right
    classifier["explorations"]["confusion"] = [[40, 10, 0], [10, 20, 0], [0, 0, 20]]
    page = render(_report(_cells(0.5), classifier), "python -m bench.empathy_agreement")
    assert "emotional reactions macro-F1 0.600-0.800 (standard error of the mean 0.032)" in page
    pooled = next(line for line in page.splitlines() if line.startswith("Pooled out-of-fold"))
    assert "emotional reactions macro-F1 1.000 (1.000-1.000), Spearman 1.000 (1.000-1.000)" in pooled
    low, high = (float(v) for v in pooled.split("explorations macro-F1 0.822 (")[1].split(")")[0].split("-"))
    assert 0.7 < low < 0.822 < high < 0.95  # 100 pairs: a wide interval around the pooled figure
    assert "interpretations" not in pooled  # no confusion, no pooled figure
