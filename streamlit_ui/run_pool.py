"""Slow work off the script thread: one process pool for the whole server, shared by every session.

A simulation or a recommendation runs in a worker process, so a long run in one browser
tab never holds the interpreter lock another tab's script needs. Workers report progress
through one queue that a thread of the server drains into a dict the pages poll; finished
answers are kept in a small bounded store so a second tab asking the same question (or a
rerun after a slider moved back) gets it at once, and a question already running is joined,
not started twice. Nothing here imports Streamlit: `streamlit_ui.cached` holds the pool in
`st.cache_resource`.
"""

from __future__ import annotations

import hashlib
import importlib
import multiprocessing as mp
import os
import pickle
import threading
import time
import weakref
from collections import OrderedDict
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

_QUEUE: Any = None  # the worker side of the progress queue (set by _init in each worker)
_POOLS: "weakref.WeakSet[RunPool]" = weakref.WeakSet()  # this process's pools, for shutdown_all


def _init(queue: Any) -> None:
    global _QUEUE
    _QUEUE = queue


def _reporter(job: str) -> Callable[[float], None]:
    last = {"t": 0.0}

    def report(fraction: float) -> None:
        now = time.monotonic()
        if fraction >= 1 or now - last["t"] > 0.1:  # at most ten messages a second
            last["t"] = now
            if _QUEUE is not None:
                _QUEUE.put((job, float(fraction)))

    return report


def _warm() -> None:
    import model.queueing.evaluate  # noqa: F401


def _scenario(scenario_json: str):
    from model.scenario.schema import Scenario

    return Scenario.model_validate_json(scenario_json)


# ---------------------------------------------------------------- jobs (run in a worker)

def simulate_job(job: str, scenario_json: str, seed: int, requests: int) -> dict:
    """One simulation, priced; returns the Results object and when it ran (for the overlap test)."""
    from model.queueing.evaluate import evaluate

    started = time.time()
    results = evaluate(_scenario(scenario_json), "sim", seed=seed, requests=requests, progress=_reporter(job))
    return {"results": results, "started": started, "finished": time.time(), "pid": os.getpid()}


def recommend_job(job: str, scenario_json: str, months: int, seed: int) -> dict:
    from model.planning.recommend import recommend

    started = time.time()
    answer = recommend(_scenario(scenario_json), months=months, seed=seed, progress=_reporter(job))
    return {"answer": answer.to_json(), "started": started, "finished": time.time(), "pid": os.getpid()}


def curve_job(job: str, scenario_json: str, rates: tuple[float, ...], seed: int, requests: int) -> dict:
    """Latency at several rates by short simulations (used only while the analytic solver is missing)."""
    from model.queueing.evaluate import evaluate

    scenario = _scenario(scenario_json)
    report = _reporter(job)
    rows = []
    for k, rate in enumerate(rates):
        r = evaluate(scenario, "sim", rate_rps=rate, seed=seed, requests=requests)
        rows.append({"rate_rps": rate, "p50": r.latency_ms.p50, "p95": r.latency_ms.p95, "p99": r.latency_ms.p99,
                     "error_pct": r.error_pct, "saturated": bool(r.saturated)})
        report((k + 1) / len(rates))
    return {"rows": rows}


# ---------------------------------------------------------------- the pool

@dataclass
class Run:
    """One submitted job as a page sees it."""

    key: str
    future: Future
    submitted: float = field(default_factory=time.time)


class RunPool:
    """A process pool with progress, de-duplication of identical jobs and a bounded answer store."""

    def __init__(self, workers: int | None = None, keep: int = 64):
        workers = workers or int(os.environ.get("HEADROOM_APP_WORKERS", "0")) or max(6, os.cpu_count() or 2)
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(["model.queueing.evaluate", "model.queueing.sim.simulation"])
        self._queue = self._ctx.Queue()
        self.workers = workers
        self.executor = self._executor()
        self.progress: dict[str, float] = {}
        self._running: dict[str, Run] = {}
        self._done: OrderedDict[str, Any] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._drain, name="headroom-progress", daemon=True).start()
        self.executor.submit(_warm)  # start the fork server and one worker now, not on the first user's click
        _POOLS.add(self)

    def _executor(self) -> ProcessPoolExecutor:
        # The module as it is now: Streamlit re-imports app modules whose files changed, and pickle
        # sends functions by name, so the pool must be built from the current module's functions.
        current = importlib.import_module(__name__)
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=self._ctx, initializer=current._init,
                                   initargs=(self._queue,))

    def _drain(self) -> None:
        while not self._closed:
            try:
                job, fraction = self._queue.get(timeout=0.5)
            except Exception:  # queue.Empty, or the queue closed at shutdown
                continue
            self.progress[job] = fraction

    @staticmethod
    def key(*parts: Any) -> str:
        return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:20]

    def answer(self, key: str) -> Any | None:
        """A finished answer, or None."""
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
        return None

    def submit(self, key: str, fn: Callable, *args: Any) -> Run:
        """Start `fn(key, *args)` in a worker, or join the identical job already running."""
        with self._lock:
            run = self._running.get(key)
            if run is not None and not run.future.done():
                return run
            self.progress[key] = 0.0
            fn = getattr(importlib.import_module(fn.__module__), fn.__name__)
            try:
                future = self.executor.submit(fn, key, *args)
            except pickle.PicklingError:  # the app's code was reloaded under a running server
                self.executor.shutdown(wait=False)
                self.executor = self._executor()
                future = self.executor.submit(fn, key, *args)
            run = Run(key, future)
            self._running[key] = run
        future.add_done_callback(lambda f: self._finished(key, f))
        return run

    def _finished(self, key: str, future: Future) -> None:
        with self._lock:
            self._running.pop(key, None)
            self.progress.pop(key, None)
            if future.cancelled() or future.exception() is not None:
                return
            self._done[key] = future.result()
            while len(self._done) > self._keep:
                self._done.popitem(last=False)

    def wait(self, run: Run, on_progress: Callable[[float], None], poll_s: float = 0.15,
             timeout_s: float = 600) -> Any:
        """Block this session's script thread (only) until the job ends, reporting progress."""
        deadline = time.monotonic() + timeout_s
        while not run.future.done():
            on_progress(self.progress.get(run.key, 0.0))
            if time.monotonic() > deadline:
                raise TimeoutError(f"the run took longer than {timeout_s:.0f} s")
            time.sleep(poll_s)
        on_progress(1.0)
        return run.future.result()

    def shutdown(self, terminate: bool = False) -> None:
        """Take no more jobs and cancel the queued ones; with `terminate`, also end the workers now.

        Terminating is for a server that is stopping: its sessions are gone, so a running job's
        answer has no reader. Without it a worker would outlive the server when the server
        exits by its signal, as `streamlit run` on an `st.App` does on SIGTERM (uvicorn re-raises
        the signal after its graceful shutdown, so the interpreter's exit handlers that stop the
        pool never run): each worker holds its own queue's pipe open and waits on it forever,
        and keeps the fork server and the resource tracker alive with it.
        """
        self._closed = True
        workers = list((getattr(self.executor, "_processes", None) or {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        if terminate:
            for process in workers:
                process.terminate()
            for process in workers:
                process.join(timeout=5)


def shutdown_all() -> None:
    """End every pool of this process and its workers (the server is stopping)."""
    for pool in list(_POOLS):
        pool.shutdown(terminate=True)
