"""SFT speed of the project's own recipe on one GPU, ZeRO-2 and ZeRO-3: tokens/s, MFU, peak GPU memory.

The student is a ~0.5B Llama built from a config (random weights: speed does not depend on them) with the embedded
SmolLM2 tokenizer and its chat template. Synthetic dialogues go through the real data path: `ShardWriter` writes
them as curated DIALOGUE shards, `train.data.prepare_sft` applies the chat template, masks labels and packs them
into `max_seq_len` rows (timed here, once). Then each ZeRO stage runs `train.sft.SFTRecipe` (setup + train: the
same code `distill train` runs on every rank, minus the HF export) in its own process as one rank, and the loss
curve's per-step times give the rates. The first steps (allocator and kernel warm-up) are left out.

MFU = tokens/s x model FLOPs per token / the chip's dense bf16 peak, with FLOPs per token = 6 N + 12 L d T
(N: parameters in matmuls, L layers, d = heads x head_dim, T = sequence length; PaLM's appendix B, also what
llm-foundry counts; no discount for the causal or packing masks, no credit for recomputation).

    python -m bench.gpu.train_speed --out DIR                      # the GPU run (bench/gpu/run.sh calls this)
    python -m bench.gpu.train_speed --tiny --out DIR               # CPU smoke test: 2-layer model, seq 128, 3 steps
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
CARRIED_TOKENIZER = ROOT / "bench" / "gpu" / ".carry" / "smollm2-tokenizer"
STUDENT_NAME = "bench-student"
RESULT = "train_speed.json"
# Dense bf16 peaks from the vendors' datasheets (no sparsity), by a substring of torch.cuda.get_device_name().
PEAK_BF16_TFLOPS = (("H100 PCIe", 756.0), ("H100", 989.4), ("H200", 989.4), ("H800", 989.4), ("A100", 312.0))
# Failures of DeepSpeed's JIT-compiled fused Adam (no nvcc, a CUDA mismatch): then torch's AdamW is measured instead.
JIT_FAILURE_HINTS = ("fused_adam", "FusedAdam", "op_builder", "cpp_extension", "nvcc", "ninja", "CUDA_HOME")
ANCHORS = (
    "llm-foundry reports about 42% MFU for a 1B model on H100 with FSDP",
    "torchtitan reports 33-39% MFU for an 8B model",
)

SEEKER = (
    "I failed my driving test again and I feel stupid.",
    "My sister stopped talking to me after our fight last month.",
    "I can't sleep because I keep worrying about money and rent.",
    "Work has been so stressful that I cry in the car before going in.",
    "My grandmother is in the hospital and I am scared of losing her.",
    "I moved to a new city and I don't know anyone here yet.",
    "Everyone at school seems to have plans except me.",
    "I got passed over for the promotion I worked two years for.",
    "My dog died last week and the house feels empty.",
    "I keep thinking I said something wrong at the party.",
    "It's been hard to get out of bed most mornings.",
    "I don't know how to tell my parents I dropped the class.",
)
SUPPORTER = (
    "That sounds really frustrating, and it makes sense that you feel this way.",
    "I'm sorry you're going through this; it is a lot to carry on your own.",
    "It takes courage to say that out loud, thank you for trusting me with it.",
    "What has been the hardest part of it for you so far?",
    "Losing something you care about hurts, and there is no right way to grieve.",
    "You worked hard for this, so of course the disappointment runs deep.",
    "Would it help to talk through what happened, step by step?",
    "It sounds like you have been feeling alone with this for a while.",
    "Many people feel that way after a change this big; you are not failing.",
    "Is there someone nearby you could lean on this week, even a little?",
    "How have you been taking care of yourself while all this is going on?",
    "I hear how much this matters to you.",
)


# -- the student and the data ---------------------------------------------------------------------------------------
def student_config(tokenizer: Any, args: argparse.Namespace) -> Any:
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=args.hidden,
        intermediate_size=args.intermediate,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads,
        head_dim=args.hidden // args.heads,
        max_position_embeddings=max(args.seq_len, 2048),
        tie_word_embeddings=True,
        rope_theta=10000.0,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )


def model_flops(model: Any, seq_len: int) -> dict[str, Any]:
    """Parameter counts and training FLOPs per token (6 N + 12 L d T) of a causal LM."""
    cfg = model.config
    total = sum(p.numel() for p in model.parameters())
    embed = model.get_input_embeddings().weight.numel()
    tied = bool(getattr(cfg, "tie_word_embeddings", False))
    matmul = total if tied else total - embed  # the input lookup is no matmul; a tied table is the LM head's matmul
    d_attn = cfg.num_attention_heads * (getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads)
    attention = 12 * cfg.num_hidden_layers * d_attn * seq_len
    return {
        "params": total,
        "params_non_embedding": total - embed,
        "params_matmul": matmul,
        "flops_per_token": 6 * matmul + attention,
        "attention_flops_per_token": attention,
        "flops_formula": "6 * params_matmul + 12 * layers * heads * head_dim * seq_len",
    }


def build_student(folder: Path, tokenizer: Any, args: argparse.Namespace) -> dict[str, Any]:
    """A random-weight student saved as an HF folder (bf16 when training in bf16) with the tokenizer; its counts."""
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    config = student_config(tokenizer, args)
    device = "cuda" if torch.cuda.is_available() else "cpu"  # initialising 0.5B weights on the GPU takes no time
    with torch.device(device):
        model = LlamaForCausalLM(config)
    info = {
        "arch": "LlamaForCausalLM (random init)",
        "hidden_size": args.hidden,
        "intermediate_size": args.intermediate,
        "layers": args.layers,
        "heads": args.heads,
        "kv_heads": args.kv_heads,
        "vocab_size": config.vocab_size,
        "tied_embeddings": True,
        **model_flops(model, args.seq_len),
    }
    model.to(torch.bfloat16 if args.precision == "bf16" else torch.float32).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return info


def synthetic_dialogue(i: int, rng: random.Random) -> dict[str, Any]:
    """A DIALOGUE row: 2-8 exchanges of 1-5 sentences a turn, so lengths vary and packing has work to do."""
    from distill.records import make_id

    messages = []
    for _ in range(rng.randint(2, 8)):
        messages.append({"role": "user", "content": " ".join(rng.choice(SEEKER) for _ in range(rng.randint(1, 4)))})
        messages.append(
            {"role": "assistant", "content": " ".join(rng.choice(SUPPORTER) for _ in range(rng.randint(1, 5)))}
        )
    return {
        "id": make_id("bench-gpu", i),
        "seed_id": make_id("bench-seed", i % 96),
        "mode": "selfchat",
        "variant": 0,
        "prompt_version": "v1",
        "language": "en",
        "emotion": "sad",
        "strategies": ["comfort", "questioning"],
        "messages": messages,
        "teacher": {"model": "synthetic", "revision": None, "backend": "dryrun"},
        "sampling": None,
        "usage": None,
        "finish_reason": "stop",
        "scores": None,
        "created_at": None,
    }


def write_curated(folder: Path, n: int) -> None:
    from distill.records import DIALOGUE
    from distill.shards import ShardWriter

    rng = random.Random(0)
    with ShardWriter(folder, DIALOGUE, rows_per_shard=max(1, n // 4)) as writer:
        writer.write(synthetic_dialogue(i, rng) for i in range(n))


def prepare_data(cfg: Any) -> dict[str, Any]:
    """`prepare_sft` exactly as rank 0 runs it, into the folder (and under the fingerprint) the recipe then reuses."""
    from train.data import prepare_sft
    from train.prepare import check_input, data_fingerprint
    from train.runtime import TrainPaths, load_tokenizer

    tokenizer = load_tokenizer(cfg.train)
    paths = TrainPaths.of(cfg)
    started = time.perf_counter()
    manifest = prepare_sft(
        check_input(cfg),
        paths.data,
        paths.rejects,
        tokenizer,
        max_seq_len=cfg.train.max_seq_len,
        pack=cfg.train.pack,
        fingerprint=data_fingerprint(cfg, tokenizer),
    )
    seconds = time.perf_counter() - started
    c = manifest["counters"]
    rows = c.get("packed_rows", 0)
    return {
        "prepare_s": round(seconds, 2),
        "records_in": c.get("records_in", 0),
        "records_used": c.get("records_used", 0),
        "packed_rows": rows,
        "tokens_total": c.get("tokens_total", 0),
        "tokens_trainable": c.get("tokens_trainable", 0),
        "padding_fraction": round(c.get("padding_tokens", 0) / max(1, rows * cfg.train.max_seq_len), 4),
        "dialogues_per_s": round(c.get("records_in", 0) / seconds, 1) if seconds else None,
    }


# -- one stage, in its own process ----------------------------------------------------------------------------------
def run_stage(spec: dict[str, Any]) -> dict[str, Any]:
    """One rank of SFTRecipe: setup, train (the final checkpoint timed apart), cleanup. Runs in a child process."""
    import torch

    from distill.config import load_config
    from train.launch import quiet_library_warnings
    from train.runtime import use_cuda
    from train.sft import SFTRecipe

    quiet_library_warnings()
    cfg = load_config(None, spec["overrides"])
    cuda = use_cuda(cfg.train)
    recipe = SFTRecipe(cfg)
    started = time.perf_counter()
    recipe.setup()
    setup_s = time.perf_counter() - started
    session = recipe.session
    marks: dict[str, Any] = {}
    if cuda:
        marks["static_bytes"] = torch.cuda.memory_allocated()  # what persists between steps: weights, optimizer states
        torch.cuda.reset_peak_memory_stats()
    save = session.save

    def timed_save() -> None:  # the session saves after its last step: keep that out of the training peak and time it
        marks.setdefault("train_peak_bytes", torch.cuda.max_memory_allocated() if cuda else None)
        marks.setdefault("train_peak_reserved_bytes", torch.cuda.max_memory_reserved() if cuda else None)
        t = time.perf_counter()
        save()
        marks["checkpoint_save_s"] = round(time.perf_counter() - t, 2)

    session.save = timed_save
    started = time.perf_counter()
    recipe.train()
    train_wall_s = time.perf_counter() - started
    engine = session.engine
    import deepspeed

    result = {
        "zero_stage": cfg.train.zero_stage,
        "curve": session.curve,
        "setup_s": round(setup_s, 2),
        "train_wall_s": round(train_wall_s, 2),
        "optimizer": type(getattr(engine, "basic_optimizer", None) or engine.optimizer).__name__,
        "attention": getattr(engine.module.config, "_attn_implementation", None),
        "device": str(engine.device),
        "deepspeed": deepspeed.__version__,
        **marks,
    }
    recipe.cleanup()
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch_stage(workdir: Path, overrides: list[str], timeout_s: float) -> tuple[dict[str, Any] | None, str]:
    """Run one stage as a child (one rank, as `distill train` starts it); its result and the tail of its log."""
    stage = next(o.split("=", 1)[1] for o in overrides if o.startswith("train.zero_stage="))
    spec_path, result_path, log_path = (workdir / f"zero{stage}.{ext}" for ext in ("spec.json", "result.json", "log"))
    spec_path.write_text(json.dumps({"overrides": overrides, "result": str(result_path)}))
    result_path.unlink(missing_ok=True)
    env = {
        **os.environ,
        "RANK": "0",
        "LOCAL_RANK": "0",
        "WORLD_SIZE": "1",
        "LOCAL_WORLD_SIZE": "1",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
    }
    with log_path.open("w") as out:
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "bench.gpu.train_speed", "--stage-spec", str(spec_path)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
            )
            rc: int | str = proc.returncode
        except subprocess.TimeoutExpired:
            rc = f"timeout after {timeout_s:.0f} s"
    text = log_path.read_text(errors="replace")
    sys.stdout.write(text)  # the child's own log, into the run log
    tail = "\n".join(text.strip().splitlines()[-25:])
    if rc == 0 and result_path.exists():
        return json.loads(result_path.read_text()), tail
    return None, f"exit {rc}; last lines:\n{tail}"


# -- figures --------------------------------------------------------------------------------------------------------
def peak_tflops(name: str | None, override: float | None) -> tuple[float | None, str]:
    if override:
        return override, "--peak-tflops"
    for key, value in PEAK_BF16_TFLOPS:
        if name and key in name:
            return value, f"datasheet dense bf16 of {key}"
    return None, "unknown device: pass --peak-tflops"


def measured_matmul_tflops(n: int = 8192, reps: int = 10) -> float | None:
    """bf16 n x n x n matmul rate on this GPU (random data, 3 warm-ups, mean of `reps`): the ceiling actually
    reachable."""
    import torch

    if not torch.cuda.is_available():
        return None
    a, b = (torch.randn(n, n, device="cuda", dtype=torch.bfloat16) for _ in range(2))
    for _ in range(3):
        a @ b
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(reps):
        a @ b
    end.record()
    torch.cuda.synchronize()
    seconds = start.elapsed_time(end) / 1000 / reps
    del a, b
    torch.cuda.empty_cache()
    return round(2 * n**3 / seconds / 1e12, 1)


def stage_figures(
    result: dict[str, Any], warmup: int, flops_per_token: float, peak: float | None, matmul: float | None
) -> dict[str, Any]:
    curve = result["curve"]
    measured = curve[min(warmup, max(0, len(curve) - 1)) :]
    seconds = sum(e["step_s"] for e in measured)
    tokens = sum(e.get("tokens", 0) for e in measured)
    trained = sum(e.get("tokens_trained", 0) for e in measured)
    rate = tokens / seconds if seconds else 0.0
    tflops = rate * flops_per_token / 1e12
    steps = sorted(e["step_s"] for e in measured)
    gib = 2**30

    def mem(key: str) -> float | None:
        return round(result[key] / gib, 2) if result.get(key) is not None else None

    return {
        "zero_stage": result["zero_stage"],
        "ok": True,
        "steps_total": len(curve),
        "steps_measured": len(measured),
        "tokens_per_step": int(tokens / len(measured)) if measured else 0,
        "step_s_median": steps[len(steps) // 2] if steps else None,
        "tokens_per_s": round(rate, 1),
        "trained_tokens_per_s": round(trained / seconds, 1) if seconds else 0.0,
        "model_tflops_per_s": round(tflops, 2),
        "mfu": round(tflops / peak, 4) if peak else None,
        "mfu_vs_measured_matmul": round(tflops / matmul, 4) if matmul else None,
        "peak_memory_gib": mem("train_peak_bytes"),
        "peak_reserved_gib": mem("train_peak_reserved_bytes"),
        "static_memory_gib": mem("static_bytes"),
        "setup_s": result["setup_s"],
        "checkpoint_save_s": result.get("checkpoint_save_s"),
        "optimizer": result["optimizer"],
        "attention": result["attention"],
        "loss_first": curve[0]["loss"] if curve else None,
        "loss_last": curve[-1]["loss"] if curve else None,
        "step_s_all": [e["step_s"] for e in curve],
    }


def machine_info() -> dict[str, Any]:
    import torch
    import transformers

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cuda": torch.version.cuda,
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(
            gpu=torch.cuda.get_device_name(0),
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            sm_count=props.multi_processor_count,
        )
        try:
            info["driver"] = (
                subprocess.run(
                    ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                    capture_output=True,
                    text=True,
                    timeout=20,
                ).stdout.strip()
                or None
            )
        except (OSError, subprocess.TimeoutExpired):
            info["driver"] = None
    else:
        info["gpu"] = None
    return info


# -- the whole bench ------------------------------------------------------------------------------------------------
TINY = {
    "hidden": 64,
    "intermediate": 128,
    "layers": 2,
    "heads": 2,
    "kv_heads": 1,
    "seq_len": 128,
    "micro_batch": 2,
    "accum": 1,
    "steps": 3,
    "warmup_steps": 1,
    "dialogues": 24,
    "precision": "fp32",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, help="folder for train_speed.json")
    p.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="run folder (student, shards, checkpoints); default: a temp folder, removed after",
    )
    p.add_argument(
        "--tokenizer",
        default=None,
        help="student tokenizer folder, or 'embedded'; default: bench/gpu/.carry/smollm2-tokenizer if present",
    )
    p.add_argument(
        "--tiny", action="store_true", help="CPU smoke settings: " + ", ".join(f"{k}={v}" for k, v in TINY.items())
    )
    p.add_argument("--stages", default="2,3", help="ZeRO stages, comma-separated, each in its own process")
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--intermediate", type=int, default=4864)
    p.add_argument("--layers", type=int, default=24)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--kv-heads", type=int, default=16)
    p.add_argument("--seq-len", type=int, default=2048)
    p.add_argument("--micro-batch", type=int, default=4)
    p.add_argument("--accum", type=int, default=4, help="gradient accumulation steps per optimizer step")
    p.add_argument("--steps", type=int, default=24, help="optimizer steps per stage")
    p.add_argument("--warmup-steps", type=int, default=4, help="first steps left out of the rates")
    p.add_argument(
        "--dialogues", type=int, default=400, help="synthetic dialogues (the recipe cycles over them in epochs)"
    )
    p.add_argument("--precision", choices=("bf16", "fp32"), default="bf16")
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument(
        "--torch-adam",
        choices=("auto", "true", "false"),
        default="auto",
        help="auto: the recipe's default (DeepSpeed's fused Adam on a GPU), torch AdamW if that cannot be built",
    )
    p.add_argument(
        "--peak-tflops", type=float, default=None, help="dense bf16 peak of the chip; default: from the device name"
    )
    p.add_argument("--stage-timeout-s", type=float, default=240.0)
    p.add_argument(
        "--stage-spec", type=Path, default=None, help=argparse.SUPPRESS
    )  # internal: run one stage (child process)
    args = p.parse_args(argv)
    if args.tiny:
        explicit = {
            a.lstrip("-").split("=")[0].replace("-", "_")
            for a in (argv if argv is not None else sys.argv[1:])
            if a.startswith("--")
        }
        for key, value in TINY.items():
            if key not in explicit:
                setattr(args, key, value)
    if args.stage_spec is None and args.out is None:
        p.error("--out is required")
    return args


def stage_overrides(
    args: argparse.Namespace, workdir: Path, student: Path, zero_stage: int, torch_adam: str
) -> list[str]:
    overrides = [
        f"run.output_dir={workdir}",
        "run.name=bench",
        f"train.student={student}",
        f"train.student_name={STUDENT_NAME}",
        f"train.zero_stage={zero_stage}",
        f"train.precision={args.precision}",
        "train.num_workers=1",
        f"train.max_seq_len={args.seq_len}",
        "train.pack=true",
        f"train.micro_batch_size={args.micro_batch}",
        f"train.gradient_accumulation_steps={args.accum}",
        f"train.max_steps={args.steps}",
        "train.epochs=100000",
        "train.learning_rate=1e-4",
        "train.lr_scheduler=constant",
        "train.warmup_steps=0",
        f"train.gradient_checkpointing={str(args.gradient_checkpointing).lower()}",
        f"train.save_every_steps={args.steps}",
        "train.keep_checkpoints=1",
        "train.export=false",
    ]
    if torch_adam != "auto":
        overrides.append(f"train.torch_adam={torch_adam}")
    return overrides


def run(args: argparse.Namespace, save: Any = None) -> dict[str, Any]:
    """The whole bench; `save(result)` is called after the data step and after every stage, so a timeout keeps what was
    measured."""
    from transformers import AutoTokenizer

    from distill.config import load_config
    from distill.embedded import resolve_model
    from distill.run_dir import RunDir
    from train.runtime import TrainPaths

    started_utc = datetime.now(timezone.utc)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-gpu-train-"))
    workdir.mkdir(parents=True, exist_ok=True)
    tokenizer_ref = args.tokenizer or (str(CARRIED_TOKENIZER) if CARRIED_TOKENIZER.is_dir() else "embedded")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(tokenizer_ref))
    student = workdir / "student"
    t = time.perf_counter()
    model = build_student(student, tokenizer, args)
    model["build_s"] = round(time.perf_counter() - t, 1)
    stages = [int(s) for s in args.stages.split(",") if s.strip()]
    cfg = load_config(None, stage_overrides(args, workdir, student, stages[0], "auto"))
    write_curated(RunDir(cfg).curated, args.dialogues)
    data = {
        "dialogues": args.dialogues,
        "source": "synthetic dialogues, written as curated DIALOGUE shards and prepared by train.data.prepare_sft "
        "(chat template, labels, packing)",
        **prepare_data(cfg),
    }
    manifest = TrainPaths.of(cfg).data / "manifest.json"
    manifest_mtime = manifest.stat().st_mtime_ns

    info = machine_info()
    peak, peak_source = peak_tflops(info.get("gpu"), args.peak_tflops)
    matmul = measured_matmul_tflops()
    settings = {
        "seq_len": args.seq_len,
        "micro_batch": args.micro_batch,
        "gradient_accumulation": args.accum,
        "tokens_per_optimizer_step": args.seq_len * args.micro_batch * args.accum,
        "steps": args.steps,
        "warmup_steps_excluded": args.warmup_steps,
        "precision": args.precision,
        "packing": True,
        "gradient_checkpointing": args.gradient_checkpointing,
        "ranks": 1,
        "torch_adam": args.torch_adam,
        "tokenizer": tokenizer_ref,
    }
    figures: list[dict[str, Any]] = []
    result = {
        "bench": "train_speed",
        "command": "python -m bench.gpu.train_speed " + " ".join(args.argv),
        "started_utc": started_utc.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": info,
        "model": model,
        "data": data,
        "settings": settings,
        "peak": {"dense_bf16_tflops": peak, "source": peak_source, "measured_matmul_tflops": matmul},
        "stages": figures,
        "anchors": list(ANCHORS),
    }
    torch_adam = args.torch_adam
    for zero_stage in stages:
        if save:
            save(result)
        stage_result, detail = launch_stage(
            workdir, stage_overrides(args, workdir, student, zero_stage, torch_adam), args.stage_timeout_s
        )
        note = None
        if stage_result is None and torch_adam == "auto" and any(h in detail for h in JIT_FAILURE_HINTS):
            note = "DeepSpeed's fused Adam could not be built here; measured with torch AdamW (train.torch_adam=true)"
            log.warning("zero-%d: %s", zero_stage, note)
            torch_adam = "true"  # and for the stages after this one: the build would fail the same way
            shutil.rmtree(TrainPaths.of(cfg).zero, ignore_errors=True)
            stage_result, detail = launch_stage(
                workdir, stage_overrides(args, workdir, student, zero_stage, torch_adam), args.stage_timeout_s
            )
        shutil.rmtree(
            TrainPaths.of(cfg).zero, ignore_errors=True
        )  # the next stage must start fresh, not resume this one
        if stage_result is None:
            figures.append({"zero_stage": zero_stage, "ok": False, "error": detail, "note": note})
            continue
        entry = stage_figures(stage_result, args.warmup_steps, model["flops_per_token"], peak, matmul)
        entry["note"] = note
        info.setdefault("deepspeed", stage_result["deepspeed"])
        figures.append(entry)
        data["prepared_once"] = (
            manifest.exists() and manifest.stat().st_mtime_ns == manifest_mtime
        )  # the stages reused it
    if save:
        save(result)
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )
    if args.stage_spec is not None:
        spec = json.loads(args.stage_spec.read_text())
        Path(spec["result"]).write_text(json.dumps(run_stage(spec)))
        return 0
    args.argv = list(argv if argv is not None else sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)

    def save(result: dict[str, Any]) -> None:
        tmp = args.out / f".{RESULT}.tmp"
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        tmp.replace(args.out / RESULT)

    result = run(args, save)
    for s in result["stages"]:
        if s["ok"]:
            print(
                f"ZeRO-{s['zero_stage']}: {s['tokens_per_s']:.0f} tokens/s, MFU {s['mfu']}, peak "
                f"{s['peak_memory_gib']} GiB",
                flush=True,
            )
        else:
            print(f"ZeRO-{s['zero_stage']}: failed: {s['error']}", flush=True)
    return 0 if all(s["ok"] for s in result["stages"]) else 1


if __name__ == "__main__":
    sys.exit(main())
