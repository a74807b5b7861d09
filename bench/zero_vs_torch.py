"""ZeRO-2 (DeepSpeed, 1 rank) vs a plain PyTorch loop: training tokens/s on the same model, batch and thread count.

Both loops do forward, backward, gradient clipping and an AdamW step on the same random token batch; the rounds
alternate (torch, zero, torch, zero, ...) so machine noise hits both, and the best round of each is compared.
Writes bench/results/train.md with the figures and the exact command.

    python -m bench.zero_vs_torch [--model embedded] [--seq-len 512] [--batch 1] [--steps 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "train.md"


def _batch(vocab: int, batch: int, seq_len: int, device: str):
    import torch

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (batch, seq_len), generator=g)
    return ids.to(device)


def _load(path: str, device: str):
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(device)
    model.config.use_cache = False
    model.train()
    return model


def torch_tokens_per_s(model, ids, steps: int, lr: float) -> float:
    import torch

    opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.0)

    def step() -> None:
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()  # warm-up: allocations and optimizer state
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return ids.numel() * steps / (time.perf_counter() - start)


def zero_tokens_per_s(engine, ids, steps: int) -> float:
    def step() -> None:
        loss = engine(input_ids=ids, labels=ids).loss
        engine.backward(loss)
        engine.step()

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return ids.numel() * steps / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded", help="'embedded' (SmolLM2-135M-Instruct) or an HF folder")
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=4, help="timed steps per round (after one warm-up step)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    for key, value in (
        ("RANK", "0"),
        ("LOCAL_RANK", "0"),
        ("WORLD_SIZE", "1"),
        ("MASTER_ADDR", "127.0.0.1"),
        ("MASTER_PORT", "29531"),
    ):
        os.environ.setdefault(key, value)
    import deepspeed
    import torch
    import torch.distributed as dist

    from distill.config import TrainSection
    from distill.embedded import resolve_model
    from train.deepspeed_config import build_deepspeed_config

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    threads = torch.get_num_threads()
    if not cuda:
        deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
    deepspeed.init_distributed(dist_backend="nccl" if cuda else "gloo")
    path = resolve_model(args.model)
    section = TrainSection(
        zero_stage=2, precision="fp32", micro_batch_size=args.batch, learning_rate=1e-5, lr_scheduler="constant"
    )
    ds_config = build_deepspeed_config(section, world_size=1, total_steps=10**6, on_cpu=not cuda)

    plain = _load(path, device)
    engine, *_ = deepspeed.initialize(model=_load(path, device), model_parameters=None, config=ds_config)
    ids = _batch(plain.config.vocab_size, args.batch, args.seq_len, device)
    n_params = sum(p.numel() for p in plain.parameters())
    torch_runs, zero_runs = [], []
    for r in range(args.rounds):
        torch_runs.append(torch_tokens_per_s(plain, ids, args.steps, 1e-5))
        zero_runs.append(zero_tokens_per_s(engine, ids, args.steps))
        print(f"round {r + 1}: torch {torch_runs[-1]:.1f} tok/s, zero-2 {zero_runs[-1]:.1f} tok/s", flush=True)
    best_torch, best_zero = max(torch_runs), max(zero_runs)
    ratio = best_zero / best_torch
    command = "python -m bench.zero_vs_torch " + " ".join(sys.argv[1:] if argv is None else argv)
    text = (
        "# Training throughput: DeepSpeed ZeRO-2 vs plain PyTorch\n\n"
        f"Command: `{command.strip()}`\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs, torch threads {threads}, device {device}, "
        f"torch {torch.__version__}, deepspeed {deepspeed.__version__}. The CPU was shared with other jobs while this "
        "ran.\n\n"
        f"Model: `{args.model}` ({n_params / 1e6:.1f}M parameters), fp32, batch {args.batch} x {args.seq_len} tokens, "
        f"AdamW + clipping in both; {args.steps} timed steps per round after a warm-up step, {args.rounds} alternating "
        "rounds, best round.\n\n"
        "| loop | tokens/s (best) | all rounds |\n|---|---:|---|\n"
        f"| plain PyTorch, 1 process | {best_torch:.1f} | {', '.join(f'{x:.1f}' for x in torch_runs)} |\n"
        f"| DeepSpeed ZeRO-2, 1 rank (gloo) | {best_zero:.1f} | {', '.join(f'{x:.1f}' for x in zero_runs)} |\n\n"
        f"**Ratio ZeRO-2 / PyTorch: {ratio:.2f}x** (goal >= 0.8x on CPU).\n"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
