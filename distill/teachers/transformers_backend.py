"""transformers `generate` teacher: the dependency-light fallback (no vLLM), e.g. for tiny test models.

Requests are generated in left-padded sub-batches of `batch_size`. Sampling is seeded per sub-batch from its requests'
seeds, so a rerun of the same plan reproduces its outputs (exact per-request seeding would need batch size 1).
A request's `response_schema` is not enforced here (no constrained decoding); judges parse the free text tolerantly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from distill.config import TeacherSection
from distill.teachers.base import TeacherRequest, TeacherResult, failed, model_label

log = logging.getLogger(__name__)


class TransformersTeacher:
    backend = "transformers"

    def __init__(self, cfg: TeacherSection) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from distill.embedded import resolve_model
        from distill.remote_code import check_remote_code

        self.model = model_label(cfg.model)
        path = resolve_model(cfg.model)
        check_remote_code(path, cfg.trust_remote_code, "teacher.trust_remote_code")
        self.batch_size = cfg.batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(
            path, revision=cfg.revision, trust_remote_code=cfg.trust_remote_code
        )
        self.tokenizer.padding_side = "left"  # decoder-only batching: prompts end where generation starts
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        dtype = getattr(torch, cfg.dtype) if cfg.dtype != "auto" else "auto"
        self.lm = AutoModelForCausalLM.from_pretrained(
            path, revision=cfg.revision, dtype=dtype, trust_remote_code=cfg.trust_remote_code
        )
        self.lm.eval()
        self.max_len = cfg.max_model_len or int(getattr(self.lm.config, "max_position_embeddings", 2048))

    def generate(self, requests: Sequence[TeacherRequest]) -> list[TeacherResult]:
        results: dict[str, TeacherResult] = {}
        ok: list[tuple[TeacherRequest, str]] = []
        for req in requests:
            try:
                ok.append(
                    (req, self.tokenizer.apply_chat_template(req.messages, add_generation_prompt=True, tokenize=False))
                )
            except Exception as exc:  # a template that rejects these messages fails this request only
                results[req.id] = failed(req, f"chat_template_error: {exc}")
        # Same sampling settings in one sub-batch: group by them, keep plan order inside each group.
        groups: dict[tuple[float, float, int], list[tuple[TeacherRequest, str]]] = {}
        for req, text in ok:
            s = req.sampling
            groups.setdefault((s.temperature, s.top_p, s.max_tokens), []).append((req, text))
        for (temperature, top_p, max_tokens), items in groups.items():
            for start in range(0, len(items), self.batch_size):
                for res in self._batch(items[start : start + self.batch_size], temperature, top_p, max_tokens):
                    results[res.id] = res
        return [results[r.id] for r in requests]

    def _batch(
        self, items: list[tuple[TeacherRequest, str]], temperature: float, top_p: float, max_tokens: int
    ) -> list[TeacherResult]:
        import torch

        enc = self.tokenizer([text for _, text in items], return_tensors="pt", padding=True, add_special_tokens=False)
        width = enc["input_ids"].shape[1]
        if width >= self.max_len:
            return [failed(req, f"prompt_too_long: {width} tokens, max {self.max_len}") for req, _ in items]
        torch.manual_seed(sum(req.sampling.seed for req, _ in items) % (2**31 - 1))
        sample = temperature > 0
        with torch.inference_mode():
            out = self.lm.generate(
                **enc,
                do_sample=sample,
                temperature=temperature if sample else None,
                top_p=top_p if sample else None,
                max_new_tokens=min(max_tokens, self.max_len - width),
                pad_token_id=self.tokenizer.pad_token_id,
            )
        results = []
        stops = self._stop_ids()
        for row, (req, _) in enumerate(items):
            new = out[row, width:].tolist()
            prompt_tokens = int(enc["attention_mask"][row].sum())
            ended = any(t in stops for t in new)
            if ended:
                new = new[: min(i for i, t in enumerate(new) if t in stops)]
            text = self.tokenizer.decode(new, skip_special_tokens=True)
            results.append(
                TeacherResult(
                    req.id, text, "stop" if ended else "length", prompt_tokens=prompt_tokens, completion_tokens=len(new)
                )
            )
        return results

    def _stop_ids(self) -> set[int]:
        configured = self.lm.generation_config.eos_token_id
        ids = set(configured if isinstance(configured, list) else [configured] if configured is not None else [])
        return ids | {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id} - {None}

    def close(self) -> None:
        self.lm = None
