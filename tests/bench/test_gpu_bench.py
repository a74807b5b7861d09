"""bench/gpu on CPU: the FLOP arithmetic, and the whole run.sh with tiny settings (same code path as on the GPU, no
wheels)."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if (
    str(REPO) not in sys.path
):  # bench/ is no installed package; `python -m pytest` from the root finds it, a bare `pytest` would not
    sys.path.insert(0, str(REPO))

from bench.gpu.report import render  # noqa: E402
from bench.gpu.train_speed import model_flops, parse_args, peak_tflops, stage_figures, student_config  # noqa: E402

RUN_SH = REPO / "bench" / "gpu" / "run.sh"


def _env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "",
        **extra,
    }


@pytest.mark.parametrize("script", ["run.sh", "prepare.sh"])
def test_shell_scripts_parse(script: str) -> None:
    subprocess.run(["bash", "-n", str(REPO / "bench" / "gpu" / script)], check=True)


class _Vocab:
    """Just what student_config reads from a tokenizer."""

    bos_token_id, eos_token_id, pad_token_id = 1, 2, 2

    def __len__(self) -> int:
        return 49152


def test_default_student_is_half_a_billion_and_flops_follow_the_formula() -> None:
    import torch
    from transformers import LlamaForCausalLM

    args = parse_args(["--out", "unused"])
    with torch.device("meta"):
        model = LlamaForCausalLM(student_config(_Vocab(), args))
    f = model_flops(model, args.seq_len)
    h, i, layers, v = args.hidden, args.intermediate, args.layers, 49152
    per_layer = 4 * h * h + 3 * h * i + 2 * h  # q, k, v, o (16 KV heads = full attention), gate/up/down, two norms
    assert f["params"] == v * h + layers * per_layer + h  # tied embeddings counted once, final norm
    assert f["params_matmul"] == f["params"]  # the tied table is the LM head's matmul
    assert f["flops_per_token"] == 6 * f["params"] + 12 * layers * h * args.seq_len
    assert 0.45e9 < f["params"] < 0.55e9


def test_peak_lookup_and_mfu_arithmetic() -> None:
    assert peak_tflops("NVIDIA H200", None)[0] == 989.4
    assert peak_tflops("NVIDIA H100 PCIe", None)[0] == 756.0
    assert peak_tflops(None, None)[0] is None
    assert peak_tflops("NVIDIA H200", 500.0) == (500.0, "--peak-tflops")
    curve = [{"step": 1, "loss": 9.0, "step_s": 5.0, "tokens": 1000, "tokens_trained": 400}] + [
        {"step": s, "loss": 8.0, "step_s": 0.5, "tokens": 1000, "tokens_trained": 400} for s in range(2, 6)
    ]
    result = {
        "zero_stage": 2,
        "curve": curve,
        "setup_s": 1.0,
        "optimizer": "FusedAdam",
        "attention": "sdpa",
        "train_peak_bytes": 3 * 2**30,
    }
    st = stage_figures(result, warmup=1, flops_per_token=1e9, peak=1000.0, matmul=800.0)
    assert (
        st["steps_measured"] == 4 and st["tokens_per_s"] == 2000.0 and st["trained_tokens_per_s"] == 800.0
    )  # warm-up step left out
    assert st["model_tflops_per_s"] == 2.0 and st["mfu"] == 0.002 and st["mfu_vs_measured_matmul"] == 0.0025
    assert st["peak_memory_gib"] == 3.0 and st["static_memory_gib"] is None


@pytest.mark.slow
def test_run_sh_tiny_on_cpu_writes_every_figure(tmp_path: Path) -> None:
    out, carry = tmp_path / "out", tmp_path / "carry"  # an empty carry: no wheels to install, no EPITOME data
    carry.mkdir()
    proc = subprocess.run(
        ["bash", str(RUN_SH)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(OUT=str(out), CARRY=str(carry), PY=sys.executable, TRAIN_ARGS="--tiny"),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == [
        "epitome_speed.json",
        "gpu.json",
        "gpu.md",
        "run.log",
        "train_speed.json",
    ]

    train = json.loads((out / "train_speed.json").read_text())
    assert [s["zero_stage"] for s in train["stages"]] == [2, 3]
    for st in train["stages"]:
        assert st["ok"], st
        assert st["tokens_per_s"] > 0 and st["trained_tokens_per_s"] > 0 and st["steps_measured"] == 2
        assert st["mfu"] is None and st["peak_memory_gib"] is None  # no GPU: no peak to divide by, no CUDA allocator
        assert {
            "step_s_median",
            "model_tflops_per_s",
            "setup_s",
            "checkpoint_save_s",
            "optimizer",
            "loss_first",
            "loss_last",
        } <= st.keys()
    d = train["data"]
    assert d["records_in"] == 24 and d["records_used"] > 0 and d["packed_rows"] > 0
    assert d["prepared_once"]  # both stages reused the rows the bench prepared through train.data
    assert train["model"]["flops_per_token"] > 0 and train["machine"]["deepspeed"]
    assert train["stages"][0]["loss_first"] == pytest.approx(
        train["stages"][1]["loss_first"], rel=1e-3
    )  # same weights, same data

    epitome = json.loads((out / "epitome_speed.json").read_text())
    assert "no EPITOME CSVs" in epitome["skipped"]
    md = (out / "gpu.md").read_text()
    assert "| 2 | " in md and "| 3 | " in md and "MFU" in md and "Skipped: no EPITOME CSVs" in md
    assert json.loads((out / "gpu.json").read_text())["train"]["stages"] == train["stages"]


def _tiny_epitome(folder: Path, rows: int = 24) -> Path:
    folder.mkdir(parents=True)
    for name in ("emotional-reactions", "interpretations", "explorations"):
        with (folder / f"{name}-reddit.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["sp_id", "rp_id", "seeker_post", "response_post", "level", "rationales"])
            for i in range(rows):
                w.writerow(
                    [
                        f"s{i}",
                        f"r{i}",
                        f"I feel lost after week {i}.",
                        f"That sounds hard. What happened in week {i}?",
                        i % 3,
                        "",
                    ]
                )
    return folder


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("distill.epitome.fit") is None, reason="the EPITOME fit is not in this checkout"
)
def test_epitome_bench_tiny_on_cpu(tmp_path: Path) -> None:
    data = _tiny_epitome(tmp_path / "epitome")
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.gpu.epitome_speed",
            "--tiny",
            "--out",
            str(out),
            "--data",
            str(data),
            "--pairs",
            "64",
            "--batch-sizes",
            "16",
            "--workdir",
            str(tmp_path / "work"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    e = json.loads((out / "epitome_speed.json").read_text())
    assert e["skipped"] is None and "error" not in e, e
    assert "random init" in e["encoder"]
    assert e["fit"]["fit_s"] is not None and e["fit"]["epochs"] == 1 and e["fit"]["device"] == "cpu"
    assert (
        [r["batch_size"] for r in e["scoring"]] == [16]
        and e["scoring"][0]["pairs"] == 64
        and e["scoring"][0]["turns_per_s"] > 0
    )
    (out / "train_speed.json").unlink(missing_ok=True)
    md = render(out).read_text()
    assert "turns/s" in md and "| 16 | 64 |" in md
