"""vLLM actor placement on a real local Ray: a tensor-parallel group that no node can hold fails with a clear
message."""

from __future__ import annotations

import pytest

from distill.config import TeacherSection, load_config

pytestmark = pytest.mark.slow


def test_tensor_parallel_group_without_gpus_fails_fast_and_releases_its_placement_group(tmp_path):
    import ray

    from distill.generate.pool import make_pool

    cfg = load_config(None, [f"run.output_dir={tmp_path}"])
    teacher = TeacherSection(backend="vllm", tensor_parallel_size=2, placement_timeout_s=2)
    ray.init(address="local", include_dashboard=False, num_cpus=2, _node_ip_address="127.0.0.1")
    try:
        with pytest.raises(RuntimeError, match="no node could reserve 2 GPUs for teacher actor 0"):
            make_pool(teacher, cfg.generate)
        groups = ray.util.placement_group_table().values()
        assert groups and all(pg["state"] == "REMOVED" for pg in groups)
    finally:
        ray.shutdown()
