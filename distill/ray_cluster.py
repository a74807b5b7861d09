"""The one way this project joins Ray: the cluster in RAY_ADDRESS (or the one this process runs in), else a local one.

Ray 2.60 cannot be confined to loopback: it replaces a 127.0.0.1 node IP with the machine's address and its gRPC
servers listen on every interface; its token authentication (on by default) guards them (see README, Security).
"""

from __future__ import annotations

import os


def connect_ray() -> None:
    """Join the cluster in RAY_ADDRESS, else start a private local one without a dashboard; a no-op when connected.

    Generation, curation and Ray Train all call this, so a job submitted to a cluster and a laptop run behave alike.
    """
    import ray

    if ray.is_initialized():
        return
    if os.environ.get("RAY_ADDRESS"):
        ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=True)
    else:
        # Metrics need a dashboard/Prometheus to be read; this cluster has neither, so don't spend CPU collecting them.
        ray.init(
            address="local",
            include_dashboard=False,
            log_to_driver=True,
            _system_config={"enable_metrics_collection": False},
        )
