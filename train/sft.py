"""SFT recipe: whole dialogues, loss on every assistant turn, packed rows; setup / train / save / cleanup."""

from __future__ import annotations

import logging
from typing import Any

from distill.config import RunConfig
from train.deepspeed_config import build_deepspeed_config
from train.runtime import TrainPaths, load_student, load_tokenizer, make_engine, setup_process, teardown_process, use_cuda
from train.session import TrainSession

log = logging.getLogger(__name__)


class SFTRecipe:
    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.paths = TrainPaths.of(cfg)
        self.session: TrainSession | None = None
        self.tokenizer: Any = None
        self._keep: Any = None

    def setup(self) -> None:
        from train.prepare import ensure_prepared

        self.dist = setup_process(self.cfg.train)
        self.tokenizer = load_tokenizer(self.cfg.train)
        rows, manifest = ensure_prepared(self.cfg, self.dist, self.paths, self.tokenizer)
        session = TrainSession(self.cfg, self.dist, self.paths, rows, manifest["fingerprint"])
        session.ds_config = build_deepspeed_config(self.cfg.train, world_size=self.dist.world, total_steps=session.total_steps,
                                                   on_cpu=not use_cuda(self.cfg.train))
        model, self._keep = load_student(self.cfg.train)
        session.engine = make_engine(model, session.ds_config)
        session.resume()
        self.session = session

    def micro_loss(self, rows: list[dict[str, Any]]) -> tuple[Any, dict[str, float]]:
        import torch

        device = self.session.engine.device
        batch = {k: torch.tensor([r[k] for r in rows], dtype=torch.long, device=device) for k in ("input_ids", "labels", "position_ids")}
        # No attention_mask: transformers derives a block-diagonal mask from position_ids restarting per dialogue.
        out = self.session.engine(input_ids=batch["input_ids"], position_ids=batch["position_ids"], labels=batch["labels"])
        trained = float((batch["labels"][:, 1:] != -100).sum().item())
        return out.loss, {"tokens": float(batch["input_ids"].numel()), "tokens_trained": trained}

    def train(self) -> None:
        self.session.run(self.micro_loss)

    def save(self) -> None:
        from train.export import export_hf

        self.session.save()
        if self.cfg.train.export:
            export_hf(self.cfg, self.session, self.tokenizer)

    def cleanup(self) -> None:
        teardown_process()
