"""The server process: `streamlit run app.py` starts from app.py's `st.App` and warms up; the pool's workers run jobs only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.app.apptools import ROOT

# Start a RunPool the way the server does: Streamlit runs app.py in a fresh module that it installs
# as sys.modules["__main__"], and multiprocessing re-runs that main script in every new worker.
PROBE = textwrap.dedent("""
    import sys, types

    main = types.ModuleType("__main__")
    main.__file__ = sys.argv[1]
    sys.modules["__main__"] = main

    from streamlit_ui.run_pool import RunPool

    pool = RunPool(workers=1)
    run = pool.submit("sorted(__import__('sys').modules)", eval)  # the job's key is eval's argument
    modules = pool.wait(run, lambda fraction: None, timeout_s=120)
    pool.shutdown()
    print("WORKER-MODULES", " ".join(m for m in modules if m.split(".")[0] == "streamlit"))
""")


def probe(main_script) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROBE, str(main_script)], cwd=ROOT, capture_output=True, text=True, timeout=240
    )


def test_a_worker_does_not_run_the_app_or_import_streamlit():
    """A worker that ran app.py's body called st.* with no session: "missing ScriptRunContext" in the server log."""
    out = probe(ROOT / "app.py")
    assert out.returncode == 0, out.stderr
    assert "ScriptRunContext" not in out.stderr, out.stderr
    line = next(l for l in out.stdout.splitlines() if l.startswith("WORKER-MODULES"))
    assert line.split() == ["WORKER-MODULES"], f"the worker imported Streamlit: {line[:300]}"


WARM = textwrap.dedent("""
    import sys

    from streamlit_ui import lifecycle as warmup

    before = set(sys.modules)
    warmup.start()
    warmup.wait()
    print("WARMED", warmup.seconds is not None, " ".join(m for m in warmup.MODULES if m not in sys.modules),
          "model.queueing.special" in set(sys.modules) - before, "pandas" in sys.modules)
""")


def test_streamlit_run_starts_from_the_app_whose_lifespan_warms_the_imports():
    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(ROOT / "app.py")  # what `streamlit run app.py` checks first
    assert found.is_asgi_app and found.import_string == "app:app"
    out = subprocess.run([sys.executable, "-c", WARM], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    assert "warm-up stopped early" not in out.stderr and "ScriptRunContext" not in out.stderr, out.stderr
    line = next(l for l in out.stdout.splitlines() if l.startswith("WARMED"))
    assert line.split() == ["WARMED", "True", "True", "True"], (
        line
    )  # every module imported, the solvers' special functions and pandas among them


def _alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.append(pid)
    return out


def test_stopping_the_server_ends_its_simulation_workers():
    """SIGTERM (a deployment's stop) leaves no worker, fork server or resource tracker behind."""
    from tests.app.browser import Server, _descendants

    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    server = Server(env={"HEADROOM_START_PAGE": "whatif"}).wait_ready()
    children: list[int] = []
    try:
        server.warm(timeout_s=180)  # the probe runs What-if once: the pool starts and runs its simulation
        children = _descendants(server.proc.pid)
        assert len(children) >= 2, (
            children
        )  # resource tracker, fork server (a job's worker ends with its job)
        server.proc.terminate()
        server.proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _alive(children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(children), f"outlived the server: {_alive(children)}"
    finally:
        for pid in _alive(children):
            os.kill(pid, signal.SIGKILL)
        if server.proc.poll() is None:
            server.proc.kill()
        server.log.close()
