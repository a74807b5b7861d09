"""connect_ray: RAY_ADDRESS is joined as given, else a private local cluster starts; an open session is kept.

`ray.init` is replaced on the real module to record its arguments: starting clusters is what tests/curate and
tests/generate do for real.
"""

from __future__ import annotations

from typing import Any

import pytest
import ray

from distill.ray_cluster import connect_ray


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", lambda **kwargs: seen.append(kwargs))
    return seen


def test_joins_the_cluster_in_ray_address(calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    connect_ray()
    assert calls == [{"address": "ray://head:10001", "log_to_driver": True}]


def test_starts_a_local_cluster_without_dashboard_or_metrics(calls: list[dict[str, Any]], monkeypatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    connect_ray()
    assert calls == [
        {
            "address": "local",
            "include_dashboard": False,
            "log_to_driver": True,
            "_system_config": {"enable_metrics_collection": False},
        }
    ]


def test_an_open_session_is_reused(calls: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ray, "is_initialized", lambda: True)
    connect_ray()
    assert calls == []
