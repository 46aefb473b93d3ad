"""A worker process's side of the pool (streamlit_ui/run_pool.py): run one job, send its progress and
its answer (or its error) back through the job's own pipe.

Nothing here imports Streamlit or the model: a worker imports only what its job needs.
"""

from __future__ import annotations

import time
from typing import Any, Callable

_CONN: Any = None  # the worker side of its job's pipe (set by child)


def child(conn: Any, fn: Callable, key: str, args: tuple) -> None:
    """A worker's body: watch the parent, run one job, send the answer (or the error) back."""
    global _CONN
    from streamlit_ui.deathwatch import arm

    arm()  # the fork server forked this process: end with it
    _CONN = conn
    try:
        answer = fn(key, *args)
    except BaseException as exc:  # sent back as the job's error; the worker ends either way
        try:
            conn.send(("error", exc))
        except Exception:
            conn.send(("error", RuntimeError(f"{exc.__class__.__name__}: {str(exc)[:300]}")))
        return
    conn.send(("done", answer))


def reporter(job: str) -> Callable[[float], None]:
    last = {"t": 0.0}

    def report(fraction: float) -> None:
        now = time.monotonic()
        if fraction >= 1 or now - last["t"] > 0.1:  # at most ten messages a second
            last["t"] = now
            if _CONN is not None:
                _CONN.send(("progress", float(fraction)))

    return report
