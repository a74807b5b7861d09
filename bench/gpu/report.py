"""Gather `train_speed.json` and `epitome_speed.json` from one GPU run into `gpu.json` and `gpu.md` (a BENCHMARKS.md
section).

python -m bench.gpu.report --out DIR        # reads and writes DIR; copy DIR/gpu.md to bench/results/gpu.md
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HOW = (
    "Prepared with `bash bench/gpu/prepare.sh` on the CPU machine, then run in one device call: command `bash "
    "bench/gpu/run.sh`, "
    "carry `bench/gpu/.carry`"
)


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def _fmt(value: Any, spec: str = "", none: str = "n/a") -> str:
    if value is None:
        return none
    return format(value, spec) if spec else str(value)


def train_section(t: dict[str, Any]) -> str:
    m, d, s, p, mach = t["model"], t["data"], t["settings"], t["peak"], t["machine"]
    gpu = mach.get("gpu") or "no GPU (CPU run)"
    lines = [
        "## SFT: the train/ recipe on one GPU, ZeRO-2 vs ZeRO-3\n",
        f"Command: `{t['command']}` ({t['started_utc']})\n",
        f"Machine: {gpu}"
        + (f", {mach.get('gpu_memory_gib')} GiB, driver {mach.get('driver')}" if mach.get("gpu") else "")
        + f"; torch {mach['torch']} (CUDA {mach.get('cuda')}), transformers {mach['transformers']}, deepspeed "
        f"{mach.get('deepspeed', 'n/a')}, "
        f"Python {mach['python']}, {mach['cpus']} CPUs.\n",
        f"Student: {m['arch']}, hidden {m['hidden_size']}, {m['layers']} layers, {m['heads']} heads ({m['kv_heads']} "
        "KV), MLP "
        f"{m['intermediate_size']}, vocab {m['vocab_size']} (tied): {m['params'] / 1e6:.1f}M parameters "
        f"({m['params_non_embedding'] / 1e6:.1f}M without embeddings). Model FLOPs per token "
        f"{m['flops_per_token'] / 1e9:.3f} G "
        f"= {m['flops_formula']}.\n",
        f"Data: {d['dialogues']} {d['source']}: {d['records_used']} used -> {d['packed_rows']} packed rows of "
        f"{s['seq_len']} "
        f"tokens ({d['padding_fraction']:.1%} padding) in {d['prepare_s']} s; prepared once, reused by every stage: "
        f"{d['prepared_once']}.\n",
        f"Settings: {s['precision']}, sequence {s['seq_len']} packed, micro batch {s['micro_batch']} x accumulation "
        f"{s['gradient_accumulation']} = {s['tokens_per_optimizer_step']} tokens per optimizer step, {s['steps']} "
        "steps per stage, the first "
        f"{s['warmup_steps_excluded']} left out; gradient checkpointing "
        f"{'on' if s['gradient_checkpointing'] else 'off'}; 1 rank; "
        f"optimizer choice {s['torch_adam']!r} (auto = the recipe's default: DeepSpeed's fused Adam on a GPU, whose "
        "one-time JIT build "
        "falls in the first stage's setup s). Rates are over the loss curve's per-step wall times, which end in a host "
        "sync.\n",
        f"Peak: {_fmt(p['dense_bf16_tflops'])} TFLOP/s dense bf16 ({p['source']}); an 8192^3 bf16 matmul measured "
        f"{_fmt(p['measured_matmul_tflops'])} TFLOP/s in the same run.\n",
        "| ZeRO | tokens/s | trained tokens/s | step s (median) | model TFLOP/s | MFU | MFU vs measured matmul | peak "
        "GiB (allocated) | "
        "static GiB | optimizer | setup s | checkpoint s | loss first -> last |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    notes = []
    for st in t["stages"]:
        if not st["ok"]:
            lines.append(f"| {st['zero_stage']} | failed | | | | | | | | | | | |")
            notes.append(f"- ZeRO-{st['zero_stage']} failed: " + st["error"].splitlines()[0])
            continue
        lines.append(
            f"| {st['zero_stage']} | {st['tokens_per_s']:,.0f} | {st['trained_tokens_per_s']:,.0f} | "
            f"{_fmt(st['step_s_median'], '.3f')} | "
            f"{st['model_tflops_per_s']:.1f} | {_fmt(st['mfu'], '.1%')} | {_fmt(st['mfu_vs_measured_matmul'], '.1%')} "
            "| "
            f"{_fmt(st['peak_memory_gib'])} | {_fmt(st['static_memory_gib'])} | {st['optimizer']} | {st['setup_s']} | "
            f"{_fmt(st['checkpoint_save_s'])} | {st['loss_first']:.3f} -> {st['loss_last']:.3f} |"
        )
        if st.get("note"):
            notes.append(f"- ZeRO-{st['zero_stage']}: {st['note']}")
    lines.append("")
    lines.extend(notes)
    lines.append("\nAnchors (other stacks, other hardware; not measured here): " + "; ".join(t["anchors"]) + ".\n")
    return "\n".join(lines)


def epitome_section(e: dict[str, Any] | None) -> str:
    head = "## EPITOME classifier: fit and scoring on one GPU\n"
    if e is None:
        return head + "\nNot run (no epitome_speed.json).\n"
    if e.get("skipped"):
        return head + f"\nSkipped: {e['skipped']}.\n"
    if not e.get("fit"):
        return head + f"\nCommand: `{e.get('command')}`\n\nFailed: {e.get('error')}\n"
    f = e["fit"]
    lines = [
        head,
        f"Command: `{e['command']}` ({e['started_utc']}); the fit: `{f['command']}`.\n",
        f"Encoder: {e['encoder']}. Agreement figures of this fit are not reported: see `distill scorers validate`.\n",
        f"Fit: {f['fit_s']} s of training and per-epoch held-out evaluation ({f['wall_s']} s wall, start-up and saving "
        f"included) on {f['device']}, {f['train_pairs']} "
        f"pairs x {f['epochs']} epochs ({_fmt(f['train_pairs_per_s'])} pairs/s), {f['held_out_pairs']} held out.\n",
        "| batch | pairs scored | seconds | turns/s | device | max_length | peak GiB |",
        "|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in e.get("scoring") or []:
        lines.append(
            f"| {r['batch_size']} | {r['pairs']} | {r['seconds']} | {r['turns_per_s']:,.0f} | {r['device']} | "
            f"{r['max_length']} | "
            f"{_fmt(r['peak_memory_gib'])} |"
        )
    if e.get("error"):
        lines.append(f"\nIncomplete: {e['error']}")
    return "\n".join(lines) + "\n"


def render(out: Path) -> Path:
    train, epitome = _load(out / "train_speed.json"), _load(out / "epitome_speed.json")
    parts = ["# GPU: training and scoring speed\n", f"{HOW}; all figures below come from that one call.\n"]
    parts.append(train_section(train) if train else "## SFT on one GPU\n\nNot run (no train_speed.json).\n")
    parts.append(epitome_section(epitome))
    (out / "gpu.json").write_text(json.dumps({"train": train, "epitome": epitome}, indent=2) + "\n")
    path = out / "gpu.md"
    path.write_text("\n".join(parts))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    print(render(args.out).read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
