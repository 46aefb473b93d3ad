"""Per-node CPU sampled from the process trees every `interval_s`, as the CSV source reads it.

A node is a set of root pids (gunicorn's master, redis-server, the postmaster); each sample
sums the CPU time of every thread of every live process below them (workers, backends), so
forks and restarts are followed. The time comes from /proc/PID/task/TID/schedstat (the
scheduler's nanosecond run time), where it exists: user+system times tick at 10 ms, too
coarse for Redis's fraction of a millisecond per request in a 1 s sample. The value written is the CPU used since the previous sample as a
percent of one core (100 = one core busy): the fit's `unit: Percent` with `cpus: 1`.
"""

from __future__ import annotations

import csv
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psutil


def tree_cpu_s(roots: list[int], seen: dict[int, float], prime: bool = False) -> float:
    """CPU seconds used by the trees since the last call (`seen` holds each pid's last total).

    A pid not seen before counts all its CPU time (it started since), except on the priming call.
    """
    used = 0.0
    alive: dict[int, float] = {}
    for root in roots:
        try:
            top = psutil.Process(root)
            procs = [top, *top.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in procs:
            total = _cpu_s(proc)
            if total is None:
                continue
            alive[proc.pid] = total
            used += total - seen.get(proc.pid, total if prime else 0.0)
    seen.clear()
    seen.update(alive)
    return max(used, 0.0)


def _cpu_s(proc: psutil.Process) -> float | None:
    try:
        total = 0.0
        for task in Path(f"/proc/{proc.pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0]) / 1e9
        return total
    except (OSError, ValueError, IndexError):
        pass
    try:
        t = proc.cpu_times()
        return t.user + t.system
    except psutil.NoSuchProcess:
        return None


def cores_busy_s(cores: list[int]) -> float:
    """Busy CPU seconds of these cores since boot, whoever ran on them (/proc/stat: all but idle and iowait)."""
    busy = 0
    with open("/proc/stat") as f:
        for line in f:
            name, *fields = line.split()
            if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cores:
                ticks = [int(x) for x in fields[:8]]
                busy += sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


class CpuSampler:
    """A background thread writing `timestamp,<node>_cpu_pct,...` rows to a CSV file."""

    def __init__(
        self,
        nodes: dict[str, Callable[[], list[int]]],
        path: Path,
        interval_s: float = 1.0,
        host_cores: list[int] | None = None,
    ):
        """`host_cores`: also write how busy these cores were (column `host_cpu_pct`, % of one core),
        whoever used them: on a shared machine, the servers' share of their cores is not all of it."""
        self.nodes, self.path, self.interval_s = nodes, path, interval_s
        self.host_cores = host_cores or []
        self.rows: list[tuple[float, dict[str, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cpu-sampler", daemon=True)

    def keys(self) -> list[str]:
        return [*self.nodes, *(["host"] if self.host_cores else [])]

    def columns(self) -> list[str]:
        return [f"{name}_cpu_pct" for name in self.keys()]

    def start(self) -> CpuSampler:
        with open(self.path, "w", newline="") as f:
            csv.writer(f).writerow(["timestamp", *self.columns()])
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        seen = {name: {} for name in self.nodes}
        for name, roots in self.nodes.items():
            tree_cpu_s(roots(), seen[name], prime=True)
        host_last = cores_busy_s(self.host_cores) if self.host_cores else 0.0
        last = time.monotonic()
        while not self._stop.wait(self.interval_s - ((time.monotonic() - last) % self.interval_s)):
            now = time.monotonic()
            wall = time.time()
            try:
                values = {
                    name: 100.0 * tree_cpu_s(roots(), seen[name]) / (now - last)
                    for name, roots in self.nodes.items()
                }
                if self.host_cores:
                    host_now = cores_busy_s(self.host_cores)
                    values["host"] = 100.0 * (host_now - host_last) / (now - last)
                    host_last = host_now
            except Exception as exc:  # noqa: BLE001 - a lost sample must not end the sampling
                print(f"cpu sampler: sample skipped ({exc.__class__.__name__}: {exc})", file=sys.stderr)
                last = now
                continue
            last = now
            self.rows.append((wall, values))
            with open(self.path, "a", newline="") as f:
                stamp = datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds")
                csv.writer(f).writerow([stamp, *(f"{values[n]:.2f}" for n in self.keys())])

    def mean_between(self, start_wall: float, end_wall: float) -> dict[str, float]:
        """Mean CPU % per node over the samples whose interval ends inside [start, end]."""
        picked = [v for t, v in self.rows if start_wall + self.interval_s <= t <= end_wall]
        if not picked:
            return {name: float("nan") for name in self.keys()}
        return {name: sum(v[name] for v in picked) / len(picked) for name in self.keys()}
