"""A real Prometheus on loopback, serving series the test wrote (Debian's prometheus and promtool).

The series are written as OpenMetrics text, turned into TSDB blocks by `promtool tsdb
create-blocks-from openmetrics`, and served by `prometheus` with a long retention, so every
query goes through the real PromQL engine and HTTP API.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
# bcrypt of "not-a-secret-test-password" (Prometheus' web config wants a hash, not the password)
TEST_USER, TEST_PASSWORD = "headroom", "not-a-secret-test-password"
TEST_HASH = "$2b$04$svI8mcug6O01PMa97UvG8OvgeAXkBlhUQYaYKe2MgwBX4CLxeW8c2"


@dataclass(frozen=True)
class Family:
    """One metric family: its name, type (gauge | counter) and samples by label set."""

    name: str
    kind: str
    samples: dict[str, list[tuple[float, float]]]  # '{job="web"}' -> [(unix seconds, value), ...]


def openmetrics(families: Iterable[Family]) -> str:
    lines = []
    for family in families:
        base = family.name.removesuffix("_total") if family.kind == "counter" else family.name
        lines.append(f"# TYPE {base} {family.kind}")
        for labels, points in family.samples.items():
            for stamp, value in points:
                lines.append(f"{family.name}{labels} {value!r} {stamp:.3f}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrometheusServer:
    """Build the TSDB, start the server on a free loopback port, stop it (and its files) at the end."""

    def __init__(self, root: Path, families: Iterable[Family], basic_auth: bool = False):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        data = root / "data"
        source = root / "series.om"
        source.write_text(openmetrics(families))
        # One block for the whole span: promtool reads the input once per block, and 2-hour blocks (its
        # default) make 14 days of data 168 passes.
        subprocess.run(
            [
                PROMTOOL,
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                "--max-block-duration=400h",
                str(source),
                str(data),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        config = root / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
        args = [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=100y",
            "--web.listen-address=127.0.0.1:%d" % free_port(),
        ]
        if basic_auth:
            web = root / "web.yml"
            web.write_text(f"basic_auth_users:\n  {TEST_USER}: {TEST_HASH}\n")
            args.append(f"--web.config.file={web}")
        self.port = int(args[4].rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(root / "prometheus.log", "wb")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, cwd=root)
        self._wait_ready(basic_auth)
        version = subprocess.run([PROMETHEUS, "--version"], capture_output=True, text=True).stdout.split()
        self.version = version[2] if len(version) > 2 else None  # "prometheus, version 2.42.0+ds ..."

    def _wait_ready(self, basic_auth: bool) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("prometheus exited: " + (self.root / "prometheus.log").read_text()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    pass
                if basic_auth:
                    return
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prometheus did not become ready within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
