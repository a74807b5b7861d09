"""DPO recipe (EmPO preference pairs): same engine, data path and checkpoints as SFT; setup / train / save / cleanup.

The reference policy is the student before training. Its log-probs of every chosen and rejected response are
computed once at setup (split across ranks) and stored beside the checkpoints, so no second model sits in memory
and a resumed run uses the same reference.
"""

from __future__ import annotations

import logging
from typing import Any

from distill.config import RunConfig
from train.data import IGNORE_INDEX, pad_id_of
from train.recipe import save_recipe, start_recipe
from train.runtime import TrainPaths, barrier, teardown_process
from train.session import TrainSession

log = logging.getLogger(__name__)


def sequence_logps(logits: Any, labels: Any) -> Any:
    """Sum of log p(label) over the labelled (response) tokens of each row; labels are shifted like a causal LM loss."""
    import torch

    logits, labels = logits[:, :-1, :].float(), labels[:, 1:]
    mask = labels != IGNORE_INDEX
    picked = torch.gather(logits.log_softmax(-1), 2, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * mask).sum(-1)


def pad_batch(seqs: list[list[int]], labels: list[list[int]], pad_id: int, device: Any) -> tuple[Any, Any, Any]:
    import torch

    n = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), n), pad_id, dtype=torch.long)
    lab = torch.full((len(seqs), n), IGNORE_INDEX, dtype=torch.long)
    att = torch.zeros((len(seqs), n), dtype=torch.long)
    for i, (s, row_labels) in enumerate(zip(seqs, labels)):
        ids[i, : len(s)], lab[i, : len(row_labels)], att[i, : len(s)] = torch.tensor(s), torch.tensor(row_labels), 1
    return ids.to(device), lab.to(device), att.to(device)


class DPORecipe:
    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.paths = TrainPaths.of(cfg)
        self.session: TrainSession | None = None
        self.ref: Any = None

    def setup(self) -> None:
        setup = start_recipe(self.cfg, self.paths)
        self.dist, self.tokenizer, self._keep = setup.dist, setup.tokenizer, setup.keep
        self.pad_id = pad_id_of(self.tokenizer)
        self.session = setup.session
        # Before resume: the weights are still the initial ones, the reference policy.
        self.ref = self._reference_logps(setup.manifest["fingerprint"])
        self.session.resume()

    def _forward_logps(self, rows: list[dict[str, Any]]) -> tuple[Any, Any, float]:
        """Summed response log-probs of the chosen and the rejected responses, and the number of real tokens."""
        ids, lab, att = pad_batch(
            [r["chosen_ids"] for r in rows] + [r["rejected_ids"] for r in rows],
            [r["chosen_labels"] for r in rows] + [r["rejected_labels"] for r in rows],
            self.pad_id,
            self.session.engine.device,
        )
        logps = sequence_logps(self.session.engine(input_ids=ids, attention_mask=att).logits, lab)
        return logps[: len(rows)], logps[len(rows) :], float(att.sum().item())

    def _reference_logps(self, fingerprint: str) -> Any:
        import torch
        import torch.distributed as dist
        from safetensors.torch import load_file, save_file

        path = self.paths.root / f"reference_logps-{fingerprint}.safetensors"
        if path.exists():
            return load_file(str(path))["logps"]
        n = len(self.session.rows)
        ref = torch.zeros((n, 2), dtype=torch.float64, device=self.session.engine.device)
        self.session.engine.eval()
        step = self.cfg.train.micro_batch_size
        mine = list(range(self.dist.rank * step, n, self.dist.world * step))
        rounds = -(
            -n // (self.dist.world * step)
        )  # every rank runs the same number of forwards (ZeRO-3 gathers are collective)
        with torch.no_grad():
            for k in range(rounds):
                start = mine[k] if k < len(mine) else None
                idx = list(range(start, min(start + step, n))) if start is not None else [0]
                c, r, _ = self._forward_logps([self.session.rows[i] for i in idx])
                if start is not None:
                    ref[idx, 0], ref[idx, 1] = c.double(), r.double()
        dist.all_reduce(ref)
        ref = ref.cpu()
        if self.dist.is_main:
            tmp = path.with_name(f".{path.name}.tmp")
            save_file({"logps": ref.contiguous()}, str(tmp))
            tmp.rename(path)
        barrier()
        self.session.engine.train()
        return ref

    def micro_loss(self, rows: list[dict[str, Any]]) -> tuple[Any, dict[str, float]]:
        import torch
        import torch.nn.functional as F

        index = torch.tensor([self._row_index[r["id"]] for r in rows])
        chosen, rejected, tokens = self._forward_logps(rows)
        ref = self.ref[index].to(chosen.device, chosen.dtype)
        margin = (chosen - ref[:, 0]) - (rejected - ref[:, 1])
        loss = -F.logsigmoid(self.cfg.train.dpo_beta * margin).mean()
        return loss, {
            "tokens": tokens,
            "reward_margin": float(self.cfg.train.dpo_beta * margin.detach().mean().item()),
            "reward_accuracy": float((margin.detach() > 0).float().mean().item()),
        }

    def train(self) -> None:
        # Pair id -> row index, to look up the stored reference log-probs.
        self._row_index = {self.session.rows[i]["id"]: i for i in range(len(self.session.rows))}
        self.session.run(self.micro_loss)

    def save(self) -> None:
        save_recipe(self.cfg, self.session, self.tokenizer)

    def cleanup(self) -> None:
        teardown_process()
