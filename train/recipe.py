"""What SFT and DPO set up and finish the same way; each recipe keeps only its batches and its loss.

`start_recipe` joins the ranks, loads the tokenizer, prepares the rows and builds the DeepSpeed engine around the
student; `save_recipe` writes the last checkpoint and the HF export. Resuming is left to the recipe: DPO computes its
reference log-probs from the initial weights before it loads a checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from distill.config import RunConfig
from train.deepspeed_config import build_deepspeed_config
from train.runtime import Dist, TrainPaths, load_student, load_tokenizer, make_engine, setup_process, use_cuda
from train.session import TrainSession


@dataclass
class RecipeSetup:
    dist: Dist
    tokenizer: Any
    session: TrainSession
    manifest: dict[str, Any]  # the prepared data's manifest; its fingerprint names the data a checkpoint saw
    keep: Any  # for ZeRO-3, what keeps the model loading partitioned: it must live as long as the engine


def start_recipe(cfg: RunConfig, paths: TrainPaths) -> RecipeSetup:
    """Process group, tokenizer, prepared rows, DeepSpeed config and engine: a session ready to resume or run."""
    from train.prepare import ensure_prepared

    dist = setup_process(cfg.train)
    tokenizer = load_tokenizer(cfg.train)
    rows, manifest = ensure_prepared(cfg, dist, paths, tokenizer)
    session = TrainSession(cfg, dist, paths, rows, manifest["fingerprint"])
    session.ds_config = build_deepspeed_config(
        cfg.train, world_size=dist.world, total_steps=session.total_steps, on_cpu=not use_cuda(cfg.train)
    )
    model, keep = load_student(cfg.train)
    session.engine = make_engine(model, session.ds_config)
    return RecipeSetup(dist=dist, tokenizer=tokenizer, session=session, manifest=manifest, keep=keep)


def save_recipe(cfg: RunConfig, session: TrainSession, tokenizer: Any) -> None:
    """The final checkpoint (a no-op when the loop just saved it), then the HF folder when `train.export` is on."""
    from train.export import export_hf

    session.save()
    if cfg.train.export:
        export_hf(cfg, session, tokenizer)
