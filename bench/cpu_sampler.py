"""Where the CPU goes during a benchmark run: cores used per process group (the run's driver, the vLLM engine core and
worker, the Ray actor, Ray's own daemons; "other processes" = everything not started by the run, i.e. other load on a
shared machine), from psutil CPU-time deltas sampled in a background thread.
"""

from __future__ import annotations

import threading
import time
from collections import Counter


def group_of(name: str, cmdline: str, pid: int, drivers: set[int]) -> str:
    if pid in drivers:
        return "driver"
    if "VLLM" in name or "VLLM::" in cmdline or "multiprocessing.spawn" in cmdline:
        return "vllm engine (core + worker)"  # vLLM retitles its spawned processes VLLM::EngineCore / VLLM::Worker
    daemons = (
        "raylet",
        "gcs_server",
        "dashboard",
        "log_monitor",
        "runtime_env",
        "ray/_private",
        "monitor.py",
        "ray::DashboardA",
        "ray::RuntimeEnv",
    )
    if any(d in name or d in cmdline for d in daemons):  # before ray::, which Ray's agents are titled with too
        return "ray daemons"
    if name.startswith("ray::") or "default_worker.py" in cmdline:
        return "ray worker/actor"
    return "other processes (ours)"


class CpuSampler:
    """`with CpuSampler() as s: ...` then `s.cores(start, end)` -> {group: average cores used between two wall
    times}."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self.samples: list[tuple[float, Counter[str]]] = []  # (wall time, CPU seconds per group since the last sample)
        self._last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.drivers: set[int] = set()  # pids of the processes that drive a run (the bench's child processes)

    def _sample(self) -> None:
        import psutil

        now, seen, used = time.time(), {}, Counter()
        ours = set(self.drivers)  # a run's processes: its driver and everything it started (Ray, engines)
        for d in list(self.drivers):
            try:
                ours.update(c.pid for c in psutil.Process(d).children(recursive=True))
            except psutil.NoSuchProcess:
                continue
        for p in psutil.process_iter(["name", "cmdline", "cpu_times", "create_time"]):
            try:
                t = p.info["cpu_times"]
                if t is None:
                    continue
                known = self._last.get(p.pid)
                cmd = " ".join(p.info["cmdline"] or [])
                group = (
                    group_of(p.info["name"] or "", cmd, p.pid, self.drivers) if p.pid in ours else "other processes"
                )  # again: processes retitle
                total = t.user + t.system
                seen[p.pid] = (group, total)
                if known:
                    used[group] += max(0.0, total - known[1])
                elif self.samples and p.info["create_time"] >= self.samples[-1][0] - self.interval_s:
                    used[group] += total  # started since the last sample: all its CPU time is new
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        self._last = seen
        self.samples.append((now, used))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def __enter__(self) -> CpuSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def cores(self, start: float, end: float) -> dict[str, float]:
        """Average cores per group over samples taken in (start, end] (wall times, time.time())."""
        total: Counter[str] = Counter()
        for t, used in self.samples:
            if start < t <= end:
                total.update(used)
        span = max(end - start, 1e-9)
        return {k: round(v / span, 2) for k, v in sorted(total.items())}
