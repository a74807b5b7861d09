"""EPITOME classifier on one GPU: `distill scorers fit` wall time, then scoring rate (supporter turns/s) of the fitted
model.

Optional by design: it writes `epitome_speed.json` with `skipped` and the reason, and exits 0, when there is no folder
of
EPITOME CSVs or `python -m distill.cli scorers fit --help` fails (the command or a package it needs is missing).
The GPU machine has no MiniLM weights (88 MB, over the carry limit), so the fit there starts from random weights of
all-MiniLM-L6-v2's shape (`bench/gpu/.carry/minilm-shape`): the same work per step, so the same time; the fitted model's
agreement with people is meaningless and not reported (`distill scorers validate` measures it with real weights).
Nothing fitted leaves the work folder (the EPITOME licence forbids redistributing models trained on it).

    python -m bench.gpu.epitome_speed --out DIR [--data DIR] [--encoder-shape DIR | --base minilm|DIR]
    python -m bench.gpu.epitome_speed --tiny --out DIR --data DIR        # CPU smoke test: 2-layer encoder, 1 epoch
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CARRY = ROOT / "bench" / "gpu" / ".carry"
RESULT = "epitome_speed.json"


def fit_cli_available() -> tuple[bool, str]:
    """Whether `python -m distill.cli scorers fit --help` runs here (the guard of the whole step)."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "distill.cli", "scorers", "fit", "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        return False, "`python -m distill.cli scorers fit --help` timed out"
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return False, f"`python -m distill.cli scorers fit --help` exited {proc.returncode}: {' | '.join(tail)}"
    return True, ""


def build_encoder(shape: Path, dest: Path, tiny: bool) -> str:
    """A random-weight encoder folder of `shape`'s config (or a 2-layer one), with `shape`'s tokenizer; its
    description."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(shape, local_files_only=True)
    if tiny:
        config.update({"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64})
    AutoModel.from_config(config).save_pretrained(dest)
    AutoTokenizer.from_pretrained(shape, local_files_only=True).save_pretrained(dest)
    layers, hidden = config.num_hidden_layers, config.hidden_size
    return f"{config.model_type} {layers} layers x {hidden}, random init (shape of {shape.name}; speed only)"


def time_fit(data: Path, model_dir: Path, base: str, overrides: list[str], timeout_s: float) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "distill.cli",
        "scorers",
        "fit",
        "--data",
        str(data),
        "--out",
        str(model_dir),
        "--base",
        base,
        *overrides,
    ]
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)
    wall = time.perf_counter() - started
    sys.stdout.write(proc.stdout[-4000:] + proc.stderr[-4000:])
    if proc.returncode != 0:
        raise RuntimeError(
            f"scorers fit exited {proc.returncode}: "
            f"{' | '.join((proc.stderr or proc.stdout).strip().splitlines()[-5:])}"
        )
    metrics = json.loads((model_dir / "metrics.json").read_text())
    epochs = len(metrics.get("epochs", []))
    fit_s = metrics.get("fit_seconds")
    return {
        "command": "python -m distill.cli scorers fit --data DATA --out MODEL --base ENCODER " + " ".join(overrides),
        "wall_s": round(wall, 1),
        "fit_s": fit_s,
        "device": metrics.get("device"),
        "train_pairs": metrics.get("train_rows"),
        "held_out_pairs": metrics.get("held_out_rows"),
        "epochs": epochs,
        "train_pairs_per_s": round(metrics["train_rows"] * epochs / fit_s, 1)
        if fit_s and metrics.get("train_rows")
        else None,
    }


def time_scoring(model_dir: Path, data: Path, n_pairs: int, batch_sizes: list[int]) -> list[dict[str, Any]]:
    """Turns/s of the fitted classifier over EPITOME (seeker, response) pairs repeated to `n_pairs`, per batch size."""
    import torch

    from distill.epitome.classifier import EpitomeClassifier
    from distill.epitome.data import read_epitome

    base = [(p.seeker, p.response) for p in read_epitome(data).pairs]
    pairs = (base * (n_pairs // len(base) + 1))[:n_pairs]
    rows = []
    for batch in batch_sizes:
        classifier = EpitomeClassifier.load(model_dir, device="auto", batch_size=batch)
        classifier.logits(pairs[: batch * 2])  # warm-up: kernels, allocator, tokenizer caches
        if classifier.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        classifier.logits(pairs)  # returns CPU tensors: the GPU work is finished when it returns
        seconds = time.perf_counter() - started
        rows.append(
            {
                "batch_size": batch,
                "pairs": len(pairs),
                "seconds": round(seconds, 2),
                "turns_per_s": round(len(pairs) / seconds, 1),
                "device": classifier.device,
                "max_length": classifier.max_length,
                "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)
                if classifier.device == "cuda"
                else None,
            }
        )
        del classifier
    return rows


def run(args: argparse.Namespace, save: Any = None) -> dict[str, Any]:
    """Guards, fit, scoring; `save(result)` after the fit too, so a timeout during scoring keeps the fit figures."""
    result: dict[str, Any] = {
        "bench": "epitome_speed",
        "command": "python -m bench.gpu.epitome_speed " + " ".join(args.argv),
        "started_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "skipped": None,
    }
    data = args.data or (CARRY / "epitome")
    if not data.is_dir() or not any(data.glob("*-reddit.csv")):
        result["skipped"] = f"no EPITOME CSVs in {data} (prepare.sh copies them when EPITOME_DATA has them)"
        return result
    ok, why = fit_cli_available()
    if not ok:
        result["skipped"] = why
        return result

    import torch

    result["machine"] = {
        "torch": torch.__version__,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-gpu-epitome-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        shape = args.encoder_shape or (CARRY / "minilm-shape")
        if args.tiny and not shape.is_dir():
            from distill.embedded import minilm_dir

            shape = minilm_dir()  # only its config and tokenizer are used
        if args.base:
            base, result["encoder"] = args.base, f"{args.base} (as given)"
        elif shape.is_dir():
            base = str(workdir / "encoder")
            result["encoder"] = build_encoder(shape, Path(base), args.tiny)
        else:
            base, result["encoder"] = "minilm", "all-MiniLM-L6-v2 (bundled weights)"
        overrides = [
            "device=auto",
            *(["epochs=1", "batch_size=8", "max_length=64"] if args.tiny else []),
            *args.fit_overrides,
        ]
        result["fit"] = time_fit(data, workdir / "model", base, overrides, args.fit_timeout_s)
        if save:
            save({**result, "error": "scoring did not finish"})
        result["scoring"] = time_scoring(
            workdir / "model", data, args.pairs, [int(b) for b in args.batch_sizes.split(",")]
        )
    except Exception as exc:  # the step is optional: say what broke, keep the training figures
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="folder for epitome_speed.json")
    p.add_argument("--data", type=Path, default=None, help="folder of EPITOME CSVs; default: bench/gpu/.carry/epitome")
    p.add_argument(
        "--encoder-shape",
        type=Path,
        default=None,
        help="config + tokenizer folder for a random-init encoder; default: bench/gpu/.carry/minilm-shape",
    )
    p.add_argument("--base", default=None, help="fit from this encoder instead ('minilm' or a folder with weights)")
    p.add_argument("--pairs", type=int, default=20000, help="pairs scored per batch size")
    p.add_argument("--batch-sizes", default="32,256")
    p.add_argument("--fit-timeout-s", type=float, default=240.0)
    p.add_argument("--fit-overrides", nargs="*", default=[], help="extra key=value settings for `scorers fit`")
    p.add_argument("--tiny", action="store_true", help="CPU smoke settings: 2-layer encoder, 1 epoch")
    p.add_argument("--workdir", type=Path, default=None, help="default: a temp folder, removed after")
    args = p.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args.out.mkdir(parents=True, exist_ok=True)

    def save(result: dict[str, Any]) -> None:
        tmp = args.out / f".{RESULT}.tmp"
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        tmp.replace(args.out / RESULT)

    save(
        {
            "bench": "epitome_speed",
            "skipped": None,
            "error": "did not finish (killed or timed out before the fit ended)",
            "command": "python -m bench.gpu.epitome_speed " + " ".join(args.argv),
        }
    )
    result = run(args, save)
    save(result)
    if result["skipped"]:
        print(f"epitome: skipped: {result['skipped']}")
    elif "error" in result:
        print(f"epitome: failed: {result['error']}")
    else:
        print(
            f"epitome: fit {result['fit']['wall_s']} s; scoring "
            + ", ".join(f"{r['turns_per_s']:.0f} turns/s (batch {r['batch_size']})" for r in result["scoring"])
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
