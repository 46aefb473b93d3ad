"""The server's start and stop: warm the imports at start, end the pool's workers at stop.

A session's first script run used to import pandas, pyarrow, scipy (the analytic solver),
SimPy and the pydantic models before it could draw a number: about 1.3 s of the
Overview's first visit after a restart on two shared cores, on top of the 1.2-1.5 s the
browser needs for Streamlit's frontend. `streamlit run app.py` starts the server from
`app.App` (an `st.App`, see app.py), whose lifespan calls `start()`: a thread imports those
modules while the server is idle. A session's first run calls `wait()` before it imports
anything itself, so a visitor who arrives during the warm-up waits for the rest of it
instead of importing the same modules beside it (two threads importing modules that
import each other can fail with a deadlock error).

Only imports happen here: no `st.*` call and no `st.cache_*` function, which would run
with no session (Streamlit logs "missing ScriptRunContext" for that). When the app runs
without the lifespan (AppTest, or a Streamlit without `st.App`) `wait()` returns at once.

At stop (SIGTERM, Ctrl+C) the lifespan ends the simulation pool's workers
(`runs.shutdown_all`): the server exits by re-raising the signal, which skips the exit
handlers that would otherwise stop them, and they would outlive it.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

# What the landing page imports (pandas and pyarrow come with model.planning.spend and st.dataframe,
# the solvers with model.queueing.analytic.solver; scipy no longer: model/queueing/special.py), then
# the charts most other pages draw with altair.
MODULES = (
    "model.queueing.evaluate",
    "model.queueing.analytic.solver",
    "model.planning.autoscale",
    "model.scenario.reader",
    "model.planning.report",
    "model.planning.spend",
    "pyarrow",
    "streamlit_ui.cached",
    "streamlit_ui.sidebar",
    "streamlit_ui.views",
    "streamlit_ui.charts",
)

_logger = logging.getLogger(__name__)
_done = threading.Event()
_lock = threading.Lock()
_thread: threading.Thread | None = None
seconds: float | None = None  # how long the warm-up took, once done


def _warm() -> None:
    global seconds
    began = time.perf_counter()
    try:
        for name in MODULES:
            importlib.import_module(name)
    except Exception:  # a broken import shows up in the page that needs it, with the page's message
        _logger.warning("warm-up stopped early", exc_info=True)
    finally:
        seconds = time.perf_counter() - began
        _done.set()


def start() -> None:
    """Start the warm-up thread (once per process)."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_warm, name="headroom-warm-up", daemon=True)
            _thread.start()


def wait(timeout_s: float = 60.0) -> None:
    """Block until the warm-up has finished, if one was started."""
    if _thread is not None:
        _done.wait(timeout_s)


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """`st.App`'s lifespan: start warming and serve at once (the health check answers meanwhile);
    at shutdown, end the process pool's workers."""
    start()
    try:
        yield
    finally:
        from streamlit_ui.run_pool import shutdown_all

        shutdown_all()
