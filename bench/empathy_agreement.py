"""Empathy scorers against human EPITOME labels, and the classifier's scoring speed on this machine.

    python -m bench.empathy_agreement [--data ../shared/data/epitome] [--folds 5] [--classifier-folds 1] [--epochs 8]
    python -m bench.empathy_agreement --render     # only rewrite empathy.md, e.g. after adding to the run log

- 5-fold cross-validation (seeded folds over the pairs; a pair the data repeats word for word stays in one fold) for
  the scorers that need no fit (the lexical cue scorer) and for frozen MiniLM embeddings + logistic regression (the
  baseline the issue quotes);
- the fine-tuned classifier through the real CLI: `distill scorers fit` on the other folds, then `distill scorers
  validate --model` on the held-out fold, for the last `--classifier-folds` folds (each fit takes minutes on a CPU);
- scoring throughput in pairs (supporter turns) per second, model load reported apart: a plain fp32 PyTorch forward at
  batch 32 in input order beside the project's CPU paths (length-sorted batches; bf16 weights, dynamic int8), side by
  side in one run, with each path's agreement so speed is not bought with quality.
The data's licence forbids copying it into the project: it is read from --data only, fold files go to a temp folder
that is deleted, and without the folder this says so and writes nothing else. Writes bench/results/empathy.md + .json.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
RUN_LOG = RESULTS / "empathy_runs.md"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "epitome"
CPU_PATHS = ("bf16", "int8")  # what `curate.epitome_quantize=auto` picks from on a CPU
LEXICON_TUNED_ON = (0, 1, 2, 3)  # the folds (of 5, seed 0) read to write distill/text/lexicon.py's cues
PAPER = {  # EPITOME paper (Sharma et al., 2020), fine-tuned RoBERTa bi-encoder: accuracy, macro-F1
    "emotional_reactions": (0.7986, 0.7432),
    "interpretations": (0.8442, 0.6301),
    "explorations": (0.9323, 0.7288),
}


def _pairs(data: Any) -> list[tuple[str, str]]:
    return [(p.seeker, p.response) for p in data.pairs]


def lexical_cv(data: Any, folds: list[list[int]]) -> dict[str, Any]:
    from distill.epitome.agreement import agreement, mean_agreement
    from distill.epitome.predictors import LexicalPredictor

    runs = []
    for held in folds:
        part = data.subset(held)
        runs.append(agreement(part, LexicalPredictor().predict(_pairs(part)), "epitome_lexical"))
    out = mean_agreement(runs)
    # The cues were written by reading errors on folds 0-3 (LEXICON_TUNED_ON): only the other folds are unseen.
    unseen_folds = [k for k in range(len(runs)) if k not in LEXICON_TUNED_ON]
    if unseen_folds:
        out["unseen"] = mean_agreement([runs[k] for k in unseen_folds])
        out["unseen_folds"] = unseen_folds
    return out


def frozen_minilm_cv(data: Any, folds: list[list[int]]) -> dict[str, Any]:
    """MiniLM sentence embeddings of seeker and response (frozen), [s, r, s*r] -> logistic regression per mechanism."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from distill.dedup.semantic import embed
    from distill.epitome import MECHANISMS
    from distill.epitome.agreement import agreement, mean_agreement

    seeker = embed([p.seeker for p in data.pairs])
    response = embed([p.response for p in data.pairs])
    features = np.hstack([seeker, response, seeker * response])
    runs = []
    for held in folds:
        held_set = set(held)
        train = [i for i in range(len(data)) if i not in held_set]
        predicted = np.zeros((len(held), len(MECHANISMS)), dtype=int)
        for k, m in enumerate(MECHANISMS):
            y = np.array(data.labels(m))
            rows = [i for i in train if y[i] >= 0]
            model = LogisticRegression(max_iter=2000, class_weight="balanced", C=1.0).fit(features[rows], y[rows])
            predicted[:, k] = model.predict(features[held])
        runs.append(agreement(data.subset(held), [tuple(r) for r in predicted.tolist()], "frozen_minilm_logreg"))
    return mean_agreement(runs)


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "distill.cli", *args], check=True, cwd=ROOT)


def _fit_fold(
    data: Any, folds: list[list[int]], k: int, settings: list[str], base: str, work: Path
) -> tuple[dict[str, Any], float, Path]:
    from distill.epitome.data import write_epitome

    held_set = set(folds[k])
    train_dir, held_dir, model_dir = work / f"fold{k}-train", work / f"fold{k}-held", work / f"fold{k}-model"
    write_epitome(train_dir, [p for i, p in enumerate(data.pairs) if i not in held_set], data.mechanisms)
    write_epitome(held_dir, [data.pairs[i] for i in folds[k]], data.mechanisms)
    _cli("scorers", "fit", "--data", str(train_dir), "--out", str(model_dir), "--base", base, *settings)
    _cli(  # the fp32 reference; the CPU paths are validated beside it (classifier_folds)
        "scorers",
        "validate",
        "--data",
        str(held_dir),
        "--model",
        str(model_dir),
        "--json",
        str(work / f"fold{k}.json"),
        "curate.epitome_quantize=none",
    )
    trained_on = json.loads((model_dir / "validation.json").read_text())["trained_on"]
    if trained_on != 0:  # the folds keep repeated pairs together, so validate must find none of them trained on
        raise RuntimeError(f"fold {k}: validate counted {trained_on} of its pairs in the fit's training split")
    fit_seconds = json.loads((model_dir / "metrics.json").read_text())["fit_seconds"]
    return json.loads((work / f"fold{k}.json").read_text()), fit_seconds, model_dir


def classifier_folds(
    data: Any, folds: list[list[int]], which: list[int], settings: list[str], base: str, work: Path, parallel: int = 1
) -> dict[str, Any]:
    """Fit on the other folds and validate on fold k, for each k in `which`; `parallel` fits run at once (each its
    own process, so give each `threads=` of the cores). The CPU paths (bf16, int8) are validated on every fold too."""
    from concurrent.futures import ThreadPoolExecutor

    from distill.epitome.agreement import agreement, mean_agreement
    from distill.epitome.classifier import EpitomeClassifier

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        done = list(pool.map(lambda k: _fit_fold(data, folds, k, settings, base, work), which))
    runs = [run for run, _, _ in done]
    cpu_runs: dict[str, list[dict[str, Any]]] = {path: [] for path in CPU_PATHS}
    argmax_runs = []
    for k, (_, _, model_dir) in zip(which, done, strict=True):
        held = data.subset(folds[k])
        fp32 = EpitomeClassifier.load(str(model_dir), device="cpu", quantize="none")
        fp32.meta.pop("level_offsets", None)  # the same model decoded by plain argmax, to show what the offsets do
        argmax_runs.append(agreement(held, fp32.predict(_pairs(held)), "epitome_classifier_argmax"))
        for path in CPU_PATHS:
            clf = EpitomeClassifier.load(str(model_dir), device="cpu", quantize=path)
            cpu_runs[path].append(agreement(held, clf.predict(_pairs(held)), f"epitome_classifier_{path}"))
    out = mean_agreement(runs)
    out["fit_seconds"] = [seconds for _, seconds, _ in done]
    out["folds_run"] = which
    out["per_fold"] = {
        str(k): {m: run[m] for m in run if isinstance(run[m], dict)} for k, run in zip(which, runs, strict=True)
    }
    for path in CPU_PATHS:
        out[path] = mean_agreement(cpu_runs[path])
    out["argmax"] = mean_agreement(argmax_runs)
    out["model_dir"] = str(done[-1][2])
    out["held_dir"] = str(work / f"fold{which[-1]}-held")
    return out


def throughput(model_dir: str, data: Any, repeats: int) -> dict[str, Any]:
    """Plain fp32 forward (batch 32, input order, padding to each batch's longest) vs our CPU paths, interleaved."""
    import torch

    from distill.epitome.agreement import agreement, same_levels_share
    from distill.epitome.classifier import EpitomeClassifier, int8_same_levels, quantize_for

    pairs = _pairs(data)
    loaded: dict[str, Any] = {}
    load_s: dict[str, float] = {}
    for path in ("none", *CPU_PATHS):
        t0 = time.perf_counter()
        loaded[path] = EpitomeClassifier.load(model_dir, device="cpu", quantize=path, batch_size=32)
        load_s["fp32" if path == "none" else path] = round(time.perf_counter() - t0, 2)
    runs = [("plain_fp32", loaded["none"], False), ("sorted_fp32", loaded["none"], True)]
    runs += [(f"sorted_{path}", loaded[path], True) for path in CPU_PATHS]
    timings: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    for _ in range(repeats):
        for name, clf, sort in runs:
            t0 = time.perf_counter()
            clf.logits(pairs, sort_by_length=sort)
            timings[name].append(time.perf_counter() - t0)
    rates = {name: len(pairs) / sorted(ts)[len(ts) // 2] for name, ts in timings.items()}
    plain_levels = loaded["none"].predict(pairs)
    out: dict[str, Any] = {
        "pairs": len(pairs),
        "threads": torch.get_num_threads(),
        "load_s": load_s,
        "pairs_per_s": {k: round(v, 1) for k, v in rates.items()},
        "speedup_vs_plain": {k: round(v / rates["plain_fp32"], 2) for k, v in rates.items()},
        "fp32_agreement": agreement(data, plain_levels, "epitome_classifier_fp32"),
        "cpu_default": quantize_for("cpu", "auto", int8_same_levels(model_dir)),
    }
    for path in CPU_PATHS:
        levels = loaded[path].predict(pairs)
        out[f"{path}_same_levels"] = same_levels_share(levels, plain_levels)
        out[f"{path}_agreement"] = agreement(data, levels, f"epitome_classifier_{path}")
    return out


def _row(name: str, result: dict[str, Any], note: str) -> str:
    from distill.epitome import MECHANISMS

    cells = []
    for m in MECHANISMS:
        r = result.get(m)
        cells.append(f"{r['accuracy']:.3f} / {r['macro_f1']:.3f} / {r['spearman']:.3f}" if r else "-")
    return f"| {name} | " + " | ".join(cells) + f" | {note} |"


def _pooled_line(c: dict[str, Any]) -> str | None:
    """Every pair scored once, by the fold model that did not train on it: the pooled figures and their bootstrap
    intervals (from the summed confusions, which hold all a bootstrap over the pairs needs)."""
    from distill.epitome import MECHANISMS
    from distill.epitome.agreement import mechanism_agreement, mechanism_intervals

    parts = []
    for m in MECHANISMS:
        if "confusion" not in c.get(m, {}):
            continue
        confusion = c[m]["confusion"]
        truth = [i for i, row in enumerate(confusion) for j, n in enumerate(row) for _ in range(n)]
        predicted = [j for row in confusion for j, n in enumerate(row) for _ in range(n)]
        point, spans = mechanism_agreement(truth, predicted), mechanism_intervals(truth, predicted)
        parts.append(
            f"{m.replace('_', ' ')} macro-F1 {point['macro_f1']:.3f} ({spans['macro_f1'][0]:.3f}-"
            f"{spans['macro_f1'][1]:.3f}), Spearman {point['spearman']:.3f} ({spans['spearman'][0]:.3f}-"
            f"{spans['spearman'][1]:.3f})"
        )
    if not parts:
        return None
    return (
        "Pooled out-of-fold (every pair scored once, by the fold model that did not train on it; in brackets the 95% "
        "percentile bootstrap interval over the pairs, `distill.epitome.agreement.mechanism_intervals`): "
        + "; ".join(parts)
        + "."
    )


def render(report: dict[str, Any], command: str, run_log: Path = RUN_LOG) -> str:
    from distill.epitome import MECHANISMS

    lines = ["# Empathy scorers vs human EPITOME labels (bench/empathy_agreement.py)", "", f"Command: `{command}`", ""]
    if report.get("missing_data"):
        lines.append(
            f"Not run: the EPITOME data folder {report['missing_data']} is not on this machine (it is never shipped "
            "with the project)."
        )
        return "\n".join(lines) + "\n"
    # Whether the CPU does bf16 in hardware sets the fit's precision (precision=auto) and so its time, 2-2.5x apart.
    cpu_default = report.get("throughput", {}).get("cpu_default")
    bf16 = {"bf16": ", bf16 in hardware", "int8": ", no bf16 in hardware"}.get(cpu_default or "", "")
    lines += [
        f"Data: {report['data']['source']} ({report['data']['rows']} pairs, blake2b `{report['data']['blake2b']}`), "
        f"{report['folds']} seeded folds (seed 0; pairs repeated word for word kept in one fold). "
        f"Machine: {report['machine']}{bf16}.",
        "",
        "Cells: accuracy / macro-F1 / Spearman with the human level.",
        "",
        "| scorer | emotional reactions | interpretations | explorations | how measured |",
        "|---|---|---|---|---|",
    ]
    lexical = report["lexical"]
    lines.append(
        _row("epitome_lexical (cue rules)", lexical, f"{report['folds']}-fold mean (no fit; cues tuned on folds 0-3)")
    )
    if "unseen" in lexical:
        folds_named = ", ".join(str(k) for k in lexical["unseen_folds"])
        lines.append(
            _row("epitome_lexical, unseen folds only", lexical["unseen"], f"fold(s) {folds_named}: not read in tuning")
        )
    if "frozen_minilm" in report:
        lines.append(
            _row("frozen MiniLM + logistic regression", report["frozen_minilm"], f"{report['folds']}-fold mean")
        )
    if "classifier" in report:
        c = report["classifier"]
        folds_run = ", ".join(str(k) for k in c["folds_run"])
        how = (
            f"{len(c['folds_run'])}-fold mean"
            if len(c["folds_run"]) == report["folds"]
            else f"fold(s) {folds_run} of {report['folds']}"
        )
        # Runs from before level offsets existed decoded by plain argmax and carry no separate argmax figure.
        decoding = ", level offsets" if "argmax" in c else ""
        lines.append(
            _row(
                f"epitome_classifier (MiniLM fine-tuned, multi-task{decoding}), fp32 scoring",
                c,
                f"{how}: fit on the rest",
            )
        )
        if "argmax" in c:
            lines.append(
                _row("epitome_classifier, fp32, plain argmax (no level offsets)", c["argmax"], f"{how}, same models")
            )
        for path in CPU_PATHS:
            if path in c:
                name = f"epitome_classifier, {path}" + (" (the CPU default here)" if path == cpu_default else "")
                lines.append(_row(name, c[path], f"{how}, same models"))
    paper = {m: {"accuracy": a, "macro_f1": f, "spearman": float("nan")} for m, (a, f) in PAPER.items()}
    lines.append(_row("EPITOME paper, RoBERTa bi-encoder (reported)", paper, "their own split").replace("nan", "n/a"))
    if "classifier" in report:
        c = report["classifier"]
        lines += [
            "",
            f"Classifier fit time (all three mechanisms in one model, settings `{' '.join(c['fit_settings'])}`, the "
            "rest `distill scorers fit`'s defaults, this CPU): "
            + ", ".join(f"{s:.0f} s" for s in c["fit_seconds"])
            + ".",
        ]
        if len(c.get("per_fold", {})) > 1:
            spread = []
            for m in MECHANISMS:
                f1 = [fold[m]["macro_f1"] for fold in c["per_fold"].values() if m in fold]
                rho = [fold[m]["spearman"] for fold in c["per_fold"].values() if m in fold]
                if f1:
                    spread.append(
                        f"{m.replace('_', ' ')} macro-F1 {min(f1):.3f}-{max(f1):.3f} (standard error of the mean "
                        f"{statistics.stdev(f1) / len(f1) ** 0.5:.3f}), Spearman {min(rho):.3f}-{max(rho):.3f}"
                    )
            lines += ["", "Spread over the folds (fp32): " + "; ".join(spread) + "."]
            pooled = _pooled_line(c)
            lines += ["", pooled] if pooled else []
    if "throughput" in report:
        t = report["throughput"]
        lines += [
            "",
            f"Scoring speed on {t['pairs']} held-out pairs, {t['threads']} torch threads, model load excluded "
            "(load: " + ", ".join(f"{k} {v} s" for k, v in t["load_s"].items()) + f"), median of {report['repeats']} "
            "interleaved runs:",
            "",
            "| path | pairs/s | vs plain fp32 batch 32 |",
            "|---|---|---|",
        ]
        for name in ("plain_fp32", "sorted_fp32", *(f"sorted_{path}" for path in CPU_PATHS)):
            lines.append(f"| {name} | {t['pairs_per_s'][name]} | {t['speedup_vs_plain'][name]}x |")
        same = ", ".join(f"{path} {t[f'{path}_same_levels'] * 100:.1f}%" for path in CPU_PATHS)
        lines += ["", f"Levels equal to fp32's: {same} of pairs; agreement with people on this fold:", ""]
        lines.append("| scorer | emotional reactions | interpretations | explorations | how measured |")
        lines.append("|---|---|---|---|---|")
        lines.append(_row("classifier fp32", t["fp32_agreement"], "held-out fold"))
        for path in CPU_PATHS:
            name = f"classifier {path}" + (" (the CPU default here)" if path == t["cpu_default"] else "")
            lines.append(_row(name, t[f"{path}_agreement"], "held-out fold"))
    # Every other run, kept by hand in one file the benchmark never rewrites, so no figure is chosen after the fact.
    if run_log.is_file():
        lines += ["", run_log.read_text(encoding="utf-8").strip()]
    return "\n".join(lines) + "\n"


def rerender(results: Path) -> Path:
    """Rewrite `empathy.md` from the last run's `empathy.json` and the current run log (after a log entry is added)."""
    report = json.loads((results / "empathy.json").read_text(encoding="utf-8"))
    command = report.get("command")
    page = results / "empathy.md"
    if command is None and page.is_file():  # runs from before the JSON kept its command: the page named it
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith("Command: `"):
                command = line.removeprefix("Command: `").rstrip("`")
                break
    command = command or "python -m bench.empathy_agreement (command not recorded)"
    page.write_text(render(report, command, results / RUN_LOG.name))
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--classifier-folds", type=int, default=1, help="fit+validate the classifier on the last N folds (0: skip)"
    )
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--base", default="minilm")
    parser.add_argument("--fit", nargs="*", default=[], help="more key=value settings for `distill scorers fit`")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--parallel", type=int, default=1, help="classifier folds fitted at once (pair it with --fit threads=...)"
    )
    parser.add_argument("--no-frozen", action="store_true", help="skip the frozen-embedding baseline")
    parser.add_argument(
        "--render", action="store_true", help="measure nothing: rewrite empathy.md from empathy.json and the run log"
    )
    args = parser.parse_args(argv)
    if args.render:
        print(rerender(RESULTS))
        return 0
    command = "python -m bench.empathy_agreement " + " ".join(argv if argv is not None else sys.argv[1:])
    RESULTS.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"command": command}
    if not args.data.is_dir():
        report["missing_data"] = str(args.data)
        print(f"EPITOME data not found at {args.data}: nothing measured (the project never ships it)")
        (RESULTS / "empathy.md").write_text(render(report, command))
        return 0

    import transformers

    from distill.epitome.data import fold_indices, read_epitome

    transformers.logging.disable_progress_bar()  # a weight-loading bar per model load would bury the fold tables
    data = read_epitome(args.data)
    folds = fold_indices(data.pair_keys(), args.folds, seed=0)
    report.update(
        data={"source": str(args.data), "rows": len(data), "blake2b": data.digest},
        folds=args.folds,
        epochs=args.epochs,
        repeats=args.repeats,
        machine=f"{platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}",
    )
    report["lexical"] = lexical_cv(data, folds)
    print("lexical done", flush=True)
    if not args.no_frozen:
        report["frozen_minilm"] = frozen_minilm_cv(data, folds)
        print("frozen MiniLM done", flush=True)
    work = Path(tempfile.mkdtemp(prefix="epitome-bench-"))
    try:
        if args.classifier_folds > 0:
            which = list(range(args.folds - args.classifier_folds, args.folds))
            settings = [f"epochs={args.epochs}", *args.fit]
            report["classifier"] = classifier_folds(data, folds, which, settings, args.base, work, args.parallel)
            report["classifier"]["fit_settings"] = settings
            held = data.subset(folds[which[-1]])
            report["throughput"] = throughput(report["classifier"]["model_dir"], held, args.repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # fold files are copies of the licensed data: never left behind
    (RESULTS / "empathy.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    (RESULTS / "empathy.md").write_text(render(report, command))
    print(render(report, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
