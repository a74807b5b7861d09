"""SFT recipe: whole dialogues, loss on every assistant turn, packed rows; setup / train / save / cleanup."""

from __future__ import annotations

import logging
from typing import Any

from distill.config import RunConfig
from train.recipe import save_recipe, start_recipe
from train.runtime import TrainPaths, teardown_process
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
        setup = start_recipe(self.cfg, self.paths)
        self.dist, self.tokenizer, self._keep = setup.dist, setup.tokenizer, setup.keep
        setup.session.resume()
        self.session = setup.session

    def micro_loss(self, rows: list[dict[str, Any]]) -> tuple[Any, dict[str, float]]:
        import torch

        device = self.session.engine.device
        batch = {
            k: torch.tensor([r[k] for r in rows], dtype=torch.long, device=device)
            for k in ("input_ids", "labels", "position_ids")
        }
        # No attention_mask: transformers derives a block-diagonal mask from position_ids restarting per dialogue.
        out = self.session.engine(
            input_ids=batch["input_ids"], position_ids=batch["position_ids"], labels=batch["labels"]
        )
        trained = float((batch["labels"][:, 1:] != -100).sum().item())
        return out.loss, {"tokens": float(batch["input_ids"].numel()), "tokens_trained": trained}

    def train(self) -> None:
        self.session.run(self.micro_loss)

    def save(self) -> None:
        save_recipe(self.cfg, self.session, self.tokenizer)

    def cleanup(self) -> None:
        teardown_process()
