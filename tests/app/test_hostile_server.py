"""A real `streamlit run` under the worst stop: SIGKILL while a simulation runs leaves no pool process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

from tests.app.apptools import ROOT
from tests.app.browser import Server, _descendants
from tests.app.test_server import _alive


def test_a_sigkilled_server_takes_its_fork_server_and_running_workers_with_it(_scenarios_dir):
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    # What-if opens the demo and simulates it in a worker; four hundred cache visits per request make that
    # simulation run for minutes (~20M events): it is still running when the server is killed
    folder = _scenarios_dir  # a copy of scenarios/ (tests/app/conftest.py)
    text = (ROOT / "scenarios" / "checkout.yaml").read_text(encoding="utf-8")
    (folder / "checkout.yaml").write_text(
        text.replace("{to: cache, visits: 1.0}", "{to: cache, visits: 400.0}"), encoding="utf-8"
    )
    server = Server(
        scenarios_dir=folder, env={"HEADROOM_START_PAGE": "whatif", "HEADROOM_APP_WORKERS": "2"}
    ).wait_ready()
    children: list[int] = []
    try:
        probe = threading.Thread(target=lambda: _quietly(server.warm, 300), daemon=True)
        probe.start()
        deadline = time.monotonic() + 240
        workers: list[int] = []
        while time.monotonic() < deadline and not workers:
            children = _descendants(server.proc.pid)
            direct = set(_direct(server.proc.pid))
            workers = [
                pid for pid in children if pid not in direct
            ]  # grandchildren: forked by the fork server
            time.sleep(0.05)
        time.sleep(1.0)  # past the warm-up job: the simulation's worker is the one running now
        assert workers, f"no worker started: {children}"
        children = _descendants(server.proc.pid)
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(timeout=10)
        deadline = time.monotonic() + 6  # the watch polls once a second; the simulation would run for minutes
        while _alive(children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(children), f"outlived a SIGKILLed server: {_alive(children)} of {children}"
    finally:
        for pid in _alive(children):
            os.kill(pid, signal.SIGKILL)
        if server.proc.poll() is None:
            server.proc.kill()
        server.log.close()


def _direct(pid: int) -> list[int]:
    from pathlib import Path

    out = []
    for child in Path("/proc").glob("[0-9]*"):
        try:
            if int(Path(child, "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(child.name))
        except (OSError, ValueError, IndexError):
            continue
    return out


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except Exception:  # the server is killed under the request on purpose
        pass


# A pool in a process of its own, running a job that never reports progress (so no broken pipe tells
# the worker its server is gone): only the deathwatch can end it.
SILENT_JOB = textwrap.dedent("""
    import sys, time
    from streamlit_ui.run_pool import RunPool

    if __name__ == "__main__":
        pool = RunPool(workers=1)
        pool.submit("__import__('time').sleep(600)", eval)  # the key is eval's argument
        while not pool._active or pool._active[0].key == "warm-up" or pool._active[0].process is None:
            time.sleep(0.05)
        print("WORKER", pool._active[0].process.pid, flush=True)
        time.sleep(600)
""")


def test_a_silent_worker_and_the_fork_server_end_when_their_server_is_sigkilled(tmp_path):
    script = tmp_path / "server.py"
    script.write_text(SILENT_JOB, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    children: list[int] = []
    try:
        line = proc.stdout.readline()
        assert line.startswith("WORKER"), line
        children = _descendants(proc.pid)
        assert int(line.split()[1]) in children and len(children) >= 3, (
            children
        )  # tracker, fork server, worker
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _alive(children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(children), f"outlived a SIGKILLed server: {_alive(children)} of {children}"
    finally:
        for pid in _alive(children):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
