"""A real `streamlit run app.py` on a free loopback port, for the browser tests and the benchmark."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run app.py` in a subprocess; `url` once healthy; `rss_mb()` of it and its workers."""

    def __init__(
        self,
        scenarios_dir: Path | None = None,
        env: dict | None = None,
        script: str = "app.py",
        cwd: Path = ROOT,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, **(env or {})}
        if scenarios_dir is not None:
            environment["HEADROOM_SCENARIOS_DIR"] = str(scenarios_dir)
        self.log = open(ROOT / "test-artifacts" / f"streamlit-{self.port}.log", "w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                script,
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=cwd,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout_s: float = 60, poll_s: float = 0.3) -> "Server":
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(poll_s)
        raise TimeoutError("streamlit did not become healthy")

    def warm(self, timeout_s: float = 120) -> float:
        """Run the app once through the script health check (the readiness probe); seconds it took."""
        t = time.monotonic()
        with urllib.request.urlopen(self.url + "/_stcore/script-health-check", timeout=timeout_s) as r:
            if r.status != 200:
                raise RuntimeError(f"script health check: {r.status} {r.read()[:200]!r}")
        return time.monotonic() - t

    def rss_mb(self, children: bool = False) -> float:
        """Resident memory of the server (and, with children=True, of its worker processes), MB."""
        pids = [self.proc.pid] + (_descendants(self.proc.pid) if children else [])
        return sum(_rss_kb(pid) for pid in pids) / 1024

    def stop(self) -> None:
        for pid in _descendants(self.proc.pid):
            try:
                os.kill(pid, 15)
            except OSError:
                pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    out = []
    for child in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int(Path(child, "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            out.append(int(child.name))
    return out + [d for c in out for d in _descendants(c)]


def have_chromium() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


def settle(page, timeout_ms: float = 90_000) -> None:
    """Wait until the app's script has finished running (Streamlit marks it on the stApp element)."""
    page.wait_for_selector("h1", timeout=timeout_ms)
    app = page.locator('[data-testid="stApp"]')
    deadline = time.monotonic() + timeout_ms / 1000
    quiet_since = None
    while time.monotonic() < deadline:
        if app.get_attribute("data-test-script-state") != "notRunning":
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 0.8:
            page.wait_for_timeout(300)  # let charts (Vega, graphviz) paint
            return
        time.sleep(0.1)
    raise TimeoutError("the page kept running")
