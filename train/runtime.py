"""What every rank does around a recipe: process setup, the student, the DeepSpeed engine, checkpoints.

Recipes (`sft.py`, `dpo.py`) compose these pieces; nothing here knows about a loss.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill.atomic import atomic_write_json
from distill.config import RunConfig, TrainSection
from distill.embedded import resolve_model
from distill.errors import RunStateError
from distill.run_dir import RunDir

log = logging.getLogger(__name__)

DONE = "_done.json"
STATE = "trainer_state.json"


def student_name(train: TrainSection) -> str:
    if train.student_name:
        return train.student_name
    base = "SmolLM2-135M-Instruct" if train.student == "embedded" else Path(train.student.rstrip("/")).name
    return f"{base}-{train.recipe}"


@dataclass(frozen=True)
class TrainPaths:
    root: Path  # checkpoints/<student>/
    data: Path  # prepared (tokenized, packed) rows + manifest.json
    zero: Path  # ZeRO checkpoints: step-XXXXXXXX/ each with ds_config.json, trainer_state.json, _done.json
    export: Path  # the plain HF folder
    rejects: Path

    @classmethod
    def of(cls, cfg: RunConfig) -> TrainPaths:
        run = RunDir(cfg)
        root = run.checkpoints / student_name(cfg.train)
        return cls(
            root=root.absolute(),
            data=(root / "data").absolute(),
            zero=(root / "zero").absolute(),
            export=(root / "hf").absolute(),
            rejects=run.rejects("train").absolute(),
        )


@dataclass(frozen=True)
class Dist:
    rank: int
    world: int
    local_rank: int
    device: Any  # torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def use_cuda(train: TrainSection) -> bool:
    import torch

    return train.device == "cuda" or (train.device == "auto" and torch.cuda.is_available())


def setup_process(train: TrainSection) -> Dist:
    """Join (or create) the process group: gloo + one thread per rank on CPU, nccl on GPU. Reuses a group Ray Train
    made."""
    import deepspeed
    import torch
    import torch.distributed as dist

    cuda = use_cuda(train)
    if not cuda:
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        # An inference-only op that DeepSpeed would JIT-compile at init on CPU; training never uses it.
        deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
    if not dist.is_initialized():
        deepspeed.init_distributed(dist_backend="nccl" if cuda else "gloo")
    else:
        deepspeed.init_distributed(dist_backend=dist.get_backend())
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    return Dist(rank, world, local_rank, device)


def barrier() -> None:
    import torch.distributed as dist

    dist.barrier()


def teardown_process() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def load_tokenizer(train: TrainSection) -> Any:
    from transformers import AutoTokenizer

    from distill.remote_code import check_remote_code

    check_remote_code(resolve_model(train.student), train.trust_remote_code, "train.trust_remote_code")
    return AutoTokenizer.from_pretrained(resolve_model(train.student), trust_remote_code=train.trust_remote_code)


def load_student(train: TrainSection) -> tuple[Any, Any]:
    """The student model (LoRA-wrapped when lora_rank is set) and, for ZeRO-3, the object that keeps loading
    partitioned."""
    from transformers import AutoModelForCausalLM

    from distill.remote_code import check_remote_code

    check_remote_code(resolve_model(train.student), train.trust_remote_code, "train.trust_remote_code")
    keep = None
    if train.zero_stage == 3:
        from transformers.integrations import HfDeepSpeedConfig

        # Loading under zero.Init partitions weights as they load, so no rank ever holds the whole model.
        keep = HfDeepSpeedConfig(
            {
                "zero_optimization": {"stage": 3},
                "train_micro_batch_size_per_gpu": 1,
                "bf16": {"enabled": train.precision == "bf16"},
            }
        )
    model = AutoModelForCausalLM.from_pretrained(
        resolve_model(train.student), trust_remote_code=train.trust_remote_code
    )
    model.config.use_cache = False
    if train.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    return with_lora(model, train), keep


def with_lora(model: Any, train: TrainSection) -> Any:
    """`model` wrapped in the configured LoRA adapters (peft), or unchanged when train.lora_rank is 0."""
    if not train.lora_rank:
        return model
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=train.lora_rank,
        lora_alpha=train.lora_alpha,
        lora_dropout=train.lora_dropout,
        target_modules=list(train.lora_target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def make_engine(model: Any, ds_config: dict[str, Any]) -> Any:
    import deepspeed

    params = [p for p in model.parameters() if p.requires_grad]
    engine, *_ = deepspeed.initialize(model=model, model_parameters=params, config=ds_config)
    return engine


def all_reduce_mean(value: float, device: Any) -> float:
    import torch
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item()) / dist.get_world_size()


def all_reduce_sum(value: float, device: Any) -> float:
    import torch
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item())


class Checkpoints:
    """ZeRO checkpoints under `zero/step-XXXXXXXX/`; a step counts only once rank 0 has written its `_done.json`
    (last)."""

    def __init__(self, directory: Path, keep: int) -> None:
        self.directory = directory
        self.keep = keep

    @staticmethod
    def tag(step: int) -> str:
        return f"step-{step:08d}"

    def complete(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob("step-*") if (p / DONE).exists())

    def latest(self) -> Path | None:
        done = self.complete()
        return done[-1] if done else None

    def save(self, engine: Any, dist: Dist, step: int, state: dict[str, Any], ds_config: dict[str, Any]) -> Path:
        tag = self.tag(step)
        engine.save_checkpoint(str(self.directory), tag=tag, client_state={"next_step": step})
        barrier()  # every rank's shards are on disk before the step is declared complete
        path = self.directory / tag
        if dist.is_main:
            atomic_write_json(path / "ds_config.json", ds_config)
            atomic_write_json(path / STATE, state)
            atomic_write_json(path / DONE, {"step": step})
            self._prune()
        barrier()
        return path

    def _prune(self) -> None:
        done = self.complete()
        for old in done[: max(len(done) - self.keep, 0)]:
            shutil.rmtree(old, ignore_errors=True)
        # Steps that never got their marker (a kill during save) are unusable.
        for partial in self.directory.glob("step-*"):
            if not (partial / DONE).exists():
                shutil.rmtree(partial, ignore_errors=True)

    def load(self, engine: Any, path: Path, data_fingerprint: str) -> dict[str, Any]:
        state = json.loads((path / STATE).read_text())
        if state.get("data_fingerprint") != data_fingerprint:
            raise RunStateError(
                f"{path}: checkpoint was trained on other data (fingerprint {state.get('data_fingerprint')}, "
                f"now {data_fingerprint}); use --new-run to start over"
            )
        loaded, _ = engine.load_checkpoint(
            str(self.directory), tag=path.name, load_optimizer_states=True, load_lr_scheduler_states=True
        )
        if loaded is None:
            raise RunStateError(f"{path}: DeepSpeed could not load this checkpoint")
        return state
