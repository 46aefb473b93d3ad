"""Slow work off the script thread: one pool of worker processes for the whole server, shared by every session.

A simulation or a recommendation runs in its own worker process, forked from a fork server
that has the model preloaded, so a long run in one browser tab never holds the interpreter
lock another tab's script needs. Each job has its own pipe (progress, then the answer), so
a job can be stopped without harming any other:

- a worker that dies (an out-of-memory kill) fails only its own job (`WorkerDied`); the
  next job gets a new process;
- a job that runs past its time limit is killed (`JobTimeout`, "stopped after N s");
- a job nobody waits for any more is killed (`JobCancelled`): its session ended, or the same
  session asked a newer question of the same kind (a what-if change superseded it);
- the fork server and the workers end with the server, even a SIGKILLed one (deathwatch).

At most `workers` jobs run at once; more wait in a queue. Finished answers are kept in a
small bounded store so a second tab asking the same question (or a rerun after a slider
moved back) gets it at once, and a question already running is joined, not started twice.
Nothing here imports Streamlit: `streamlit_ui.cached` holds the pool in `st.cache_resource`. The jobs
are `pool_jobs.py`; a worker's own side (its pipe, its progress) is `pool_worker.py`.
"""

from __future__ import annotations

import hashlib
import importlib
import multiprocessing as mp
import os
import threading
import time
import weakref
from collections import OrderedDict, deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import wait as wait_any
from typing import Any, Callable

from streamlit_ui.deathwatch import SERVER_PID_ENV
from streamlit_ui.pool_jobs import warm
from streamlit_ui.pool_worker import child

_POOLS: "weakref.WeakSet[RunPool]" = weakref.WeakSet()  # this process's pools, for shutdown_all
JOB_LIMIT_S = float(
    os.environ.get("HEADROOM_JOB_LIMIT_S", "120")
)  # one simulation or recommendation, wall clock
OWNER_GRACE_S = (
    10.0  # a disconnected session's jobs are cancelled after this long (a reload reconnects sooner)
)


class WorkerDied(RuntimeError):
    """The job's process ended without an answer (killed, most likely for memory)."""


class JobTimeout(TimeoutError):
    """The job ran past its time limit and was stopped."""

    def __init__(self, limit_s: float):
        self.limit_s = limit_s
        super().__init__(f"stopped after {limit_s:.0f} s")


class JobCancelled(RuntimeError):
    """Nobody waits for the job any more (its session ended, or a newer change superseded it)."""


# ---------------------------------------------------------------- the pool


@dataclass(eq=False)
class Run:
    """One submitted job as a page sees it."""

    key: str
    future: Future
    submitted: float = field(default_factory=time.time)
    fn: Callable | None = None
    args: tuple = ()
    limit_s: float = JOB_LIMIT_S
    owners: set = field(default_factory=set)
    process: Any = None
    conn: Any = None
    started: float | None = None  # monotonic, once a worker runs it
    cancel: bool = False


class RunPool:
    """Worker processes with progress, limits, de-duplication of identical jobs and a bounded answer store."""

    def __init__(
        self,
        workers: int | None = None,
        keep: int = 64,
        limit_s: float | None = None,
        owner_alive: Callable[[str], bool] | None = None,
    ):
        workers = workers or int(os.environ.get("HEADROOM_APP_WORKERS", "0")) or max(6, os.cpu_count() or 2)
        os.environ[SERVER_PID_ENV] = str(os.getpid())  # read by the fork server's deathwatch preload
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(
            ["streamlit_ui.deathwatch", "model.queueing.evaluate", "model.queueing.sim.simulation"]
        )
        self.workers = workers
        self.limit_s = limit_s or JOB_LIMIT_S
        self._owner_alive = owner_alive
        self.progress: dict[str, float] = {}
        self._running: dict[str, Run] = {}  # queued or running, by key
        self._queue: deque[Run] = deque()
        self._active: list[Run] = []  # running in a process
        self._latest: dict[str, str] = {}  # owner -> the key it last asked for
        self._seen: dict[str, float | None] = {}  # owners seen connected -> when they were first missed
        self._done: OrderedDict[str, Any] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self.replaced = 0  # workers that died or were killed (each job gets a fresh process anyway)
        self._supervisor = threading.Thread(target=self._supervise, name="headroom-pool", daemon=True)
        self._supervisor.start()
        self.submit("warm-up", warm)  # start the fork server now, not on the first user's click
        _POOLS.add(self)

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

    def submit(
        self, key: str, fn: Callable, *args: Any, owner: str | None = None, limit_s: float | None = None
    ) -> Run:
        """Start `fn(key, *args)` in a worker, or join the identical job already queued or running.

        `owner` (a session and the kind of question, e.g. "SESSION:sim") supersedes: that
        owner's previous job is cancelled when nobody else waits for it.
        """
        if self._closed:
            raise RuntimeError("the simulation pool is shut down")
        # the module as it is now: Streamlit re-imports app modules whose files changed, and pickle
        # sends functions by name, so a job must name the current module's function
        fn = getattr(importlib.import_module(fn.__module__), fn.__name__)
        with self._lock:
            if owner is not None:
                previous = self._latest.get(owner)
                self._latest[owner] = key
                if previous is not None and previous != key:
                    self._release(previous, owner)
            run = self._running.get(key)
            if run is None or run.future.done() or run.cancel:
                self.progress[key] = 0.0
                run = Run(key, Future(), fn=fn, args=args, limit_s=limit_s or self.limit_s)
                self._running[key] = run
                self._queue.append(run)
            if owner is not None:
                run.owners.add(owner)
        self._wake.set()
        return run

    def _release(self, key: str, owner: str) -> None:
        """`owner` no longer waits for `key`; cancel it when nobody does (called with the lock held)."""
        run = self._running.get(key)
        if run is None:
            return
        run.owners.discard(owner)
        if not run.owners:
            run.cancel = True

    def cancel(self, key: str) -> None:
        """Stop a job now (queued or running), whoever waits for it."""
        with self._lock:
            run = self._running.get(key)
            if run is not None:
                run.cancel = True
        self._wake.set()

    def forget_owner(self, owner_prefix: str) -> None:
        """A session ended: release every job it asked for."""
        with self._lock:
            for owner in [o for o in self._latest if o.startswith(owner_prefix)]:
                self._release(self._latest.pop(owner), owner)
        self._wake.set()

    # ------------------------------------------------------------ the supervisor thread

    def _supervise(self) -> None:
        last_owner_check = time.monotonic()
        while not self._closed:
            try:
                self._start_queued()
                if self._active:
                    ready = wait_any(
                        [r.conn for r in self._active] + [r.process.sentinel for r in self._active],
                        timeout=0.1,
                    )
                    self._collect(ready)
                else:
                    self._wake.wait(0.5)
                    self._wake.clear()
                if self._owner_alive is not None and time.monotonic() - last_owner_check > 1.0:
                    last_owner_check = time.monotonic()
                    self._drop_gone_owners()
                self._enforce()
            except Exception:  # the supervisor must survive anything one job does
                time.sleep(0.1)

    def _start_queued(self) -> None:
        with self._lock:
            while self._queue and len(self._active) < self.workers:
                run = self._queue.popleft()
                if run.cancel:
                    self._end(run, JobCancelled("superseded or its session ended"))
                    continue
                receive, send = self._ctx.Pipe(duplex=False)
                process = self._ctx.Process(
                    target=child,
                    args=(send, run.fn, run.key, run.args),
                    name=f"headroom-job-{run.key[:8]}",
                    daemon=True,
                )
                try:
                    process.start()
                except Exception as exc:
                    receive.close()
                    send.close()
                    self._end(run, WorkerDied(f"could not start a worker ({exc.__class__.__name__})"))
                    continue
                send.close()
                run.process, run.conn, run.started = process, receive, time.monotonic()
                self._active.append(run)

    def _collect(self, ready: list) -> None:
        for run in list(self._active):
            message, ended = None, False
            try:
                while message is None and run.conn.poll():
                    received = run.conn.recv()
                    if received[0] == "progress":
                        self.progress[run.key] = received[1]
                    else:
                        message = received
            except (EOFError, OSError):
                ended = True  # the worker closed its pipe without an answer: it is dying
            except Exception as exc:  # an answer that cannot be unpickled here
                message = ("error", RuntimeError(f"the answer could not be read ({exc.__class__.__name__})"))
            if message is not None:
                self._finish(run, message)
            elif ended or not run.process.is_alive():
                run.process.join(timeout=5)
                self.replaced += 1
                self._finish(
                    run,
                    (
                        "error",
                        WorkerDied(f"the worker stopped unexpectedly (exit code {run.process.exitcode})"),
                    ),
                )

    def _enforce(self) -> None:
        now = time.monotonic()
        for run in list(self._active):
            if run.cancel:
                self._kill(run, JobCancelled("superseded or its session ended"))
            elif run.started is not None and now - run.started > run.limit_s:
                self._kill(run, JobTimeout(run.limit_s))

    def _drop_gone_owners(self) -> None:
        """Release the jobs of sessions that were connected and have been gone for OWNER_GRACE_S.

        A session never seen connected (the script health check's) is left alone, and a
        reconnecting browser has the grace period to come back."""
        now = time.monotonic()
        with self._lock:
            owners = set(self._latest) | {o for run in self._running.values() for o in run.owners}
            for owner in owners:
                if self._owner_alive(owner):
                    self._seen[owner] = None
                elif owner in self._seen:
                    self._seen[owner] = self._seen[owner] or now
            gone = {o for o, since in self._seen.items() if since is not None and now - since > OWNER_GRACE_S}
            for owner in gone:
                del self._seen[owner]
            for owner in gone & set(self._latest):
                self._release(self._latest.pop(owner), owner)
            if (
                len(self._latest) > 10_000
            ):  # owners of finished jobs (health checks never connect): forget them
                for owner in [o for o, key in self._latest.items() if key not in self._running]:
                    del self._latest[owner]
            for run in self._running.values():
                if run.owners and all(o in gone for o in run.owners):
                    run.cancel = True

    def _kill(self, run: Run, error: Exception) -> None:
        run.process.kill()
        run.process.join(timeout=5)
        self.replaced += 1
        self._finish(run, ("error", error))

    def _finish(self, run: Run, message: tuple) -> None:
        with self._lock:
            if run in self._active:
                self._active.remove(run)
            try:
                run.conn.close()
            except OSError:
                pass
            if message[0] == "done":
                self._done[run.key] = message[1]
                while len(self._done) > self._keep:
                    self._done.popitem(last=False)
            self._end(run, None if message[0] == "done" else message[1], message[1])
        if message[0] == "done":
            run.process.join(timeout=5)

    def _end(self, run: Run, error: BaseException | None, answer: Any = None) -> None:
        """Settle the job's future and forget it (called with the lock held)."""
        if self._running.get(run.key) is run:
            del self._running[run.key]
            self.progress.pop(run.key, None)
        if not run.future.done():
            if error is None:
                run.future.set_result(answer)
            else:
                run.future.set_exception(error)

    # ------------------------------------------------------------ waiting and stopping

    def wait(
        self,
        run: Run,
        on_progress: Callable[[float], None],
        poll_s: float = 0.15,
        timeout_s: float | None = None,
    ) -> Any:
        """Block this session's script thread (only) until the job ends, reporting progress.

        The pool enforces the job's own limit; `timeout_s` (default: the limit plus time to
        queue) only guards against a supervisor that stopped."""
        total_s = timeout_s or run.limit_s * 3 + 60
        deadline = time.monotonic() + total_s
        while not run.future.done():
            on_progress(self.progress.get(run.key, 0.0))
            if time.monotonic() > deadline:
                raise TimeoutError(f"the run took longer than {total_s:.0f} s")
            time.sleep(poll_s)
        on_progress(1.0)
        return run.future.result()

    def shutdown(self, terminate: bool = False) -> None:
        """Take no more jobs and cancel the queued ones; with `terminate`, also end the running ones now.

        Terminating is for a server that is stopping: its sessions are gone, so a running job's
        answer has no reader. Without it a worker would outlive the server when the server
        exits by its signal, as `streamlit run` on an `st.App` does on SIGTERM (uvicorn re-raises
        the signal after its graceful shutdown, so the interpreter's exit handlers never run).
        """
        self._closed = True
        self._wake.set()
        with self._lock:
            queued, self._queue = list(self._queue), deque()
            for run in queued:
                self._end(run, JobCancelled("the server is stopping"))
        if terminate:
            for run in list(self._active):
                run.process.terminate()
            for run in list(self._active):
                run.process.join(timeout=5)
                with self._lock:
                    self._end(run, JobCancelled("the server is stopping"))
            self._active.clear()


def shutdown_all() -> None:
    """End every pool of this process and its workers (the server is stopping)."""
    for pool in list(_POOLS):
        pool.shutdown(terminate=True)
