"""Running the CLI as an attacker would: in a child process with a memory and CPU cap, a canary
secret in its environment, and a verdict on what came out.

The caps are what a refusal must fit in: a bound that is checked only after the work
started shows up as the child being killed (a signal, not exit 2) or as a timeout.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from queue import Queue

ROOT = Path(__file__).resolve().parents[2]
CANARY = "CANARY-7f3a9c-never-print-me"
MEMORY_BYTES = 1_500_000_000  # address space: the interpreter, numpy, scipy and pandas fit well inside
CPU_SECONDS = 40
WALL_SECONDS = 60


def _caps() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


@dataclass
class Outcome:
    args: tuple
    returncode: int
    stdout: str
    stderr: str

    def problems(self, expected_exit: int = 2, max_stderr_chars: int = 1_000) -> list[str]:
        """What is wrong with this outcome, as a list of reasons (empty: it held)."""
        out: list[str] = []
        if CANARY in self.stdout or CANARY in self.stderr:
            out.append("the canary secret leaked")
        if "Traceback" in self.stderr or "Traceback" in self.stdout:
            out.append("a traceback")
        if self.returncode != expected_exit:
            out.append(f"exit {self.returncode}, expected {expected_exit}")
        if len(self.stderr) > max_stderr_chars:
            out.append(f"{len(self.stderr):,} characters on stderr")
        if expected_exit == 2 and len(self.stderr.strip().splitlines()) != 1:
            out.append("not one line on stderr")
        return out


def hostile_env() -> dict:
    """The environment every case runs in: ours, minus Headroom's knobs and real AWS keys, plus the canary."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HEADROOM_", "AWS_"))}
    environment.update(
        {
            "AWS_SECRET_ACCESS_KEY": CANARY,
            "AWS_SESSION_TOKEN": CANARY,
            "AWS_ACCESS_KEY_ID": "AKIACANARY",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
        }
    )
    return environment


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: float = WALL_SECONDS) -> Outcome:
    """cli.py with `args` in a fresh interpreter under the caps, a canary secret in its environment."""
    environment = hostile_env()
    environment.update(env or {})
    try:
        done = subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=environment,
            timeout=timeout,
            preexec_fn=_caps,
            errors="replace",
        )
    except subprocess.TimeoutExpired as exc:
        return Outcome(args, -999, str(exc.stdout or ""), f"timed out after {timeout} s")
    return Outcome(args, done.returncode, done.stdout, done.stderr)


class Zygotes:
    """Processes that import the CLI once and fork a capped child per case (tests/security/zygote.py)."""

    def __init__(self, count: int = 2):
        self.idle: Queue = Queue()
        self.procs = []
        for _ in range(count):
            proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("zygote.py"))],
                cwd=ROOT,
                env=hostile_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.procs.append(proc)
            self.idle.put(proc)

    def run(
        self, args: list[str], cwd: Path, env: dict | None = None, timeout: float = WALL_SECONDS
    ) -> Outcome:
        proc = self.idle.get()
        try:
            request = {"argv": list(args), "cwd": str(cwd), "env": env or {}, "timeout": timeout}
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            reply = json.loads(proc.stdout.readline())
        finally:
            self.idle.put(proc)
        stderr = reply["stderr"] if reply["returncode"] != -999 else f"timed out after {timeout} s"
        return Outcome(tuple(args), reply["returncode"], reply["stdout"], stderr)

    def run_all(self, cases: list[tuple[list[str], dict | None]], cwd: Path) -> list[Outcome]:
        with ThreadPoolExecutor(len(self.procs)) as pool:
            return list(pool.map(lambda case: self.run(case[0], cwd, case[1]), cases))

    def close(self) -> None:
        for proc in self.procs:
            proc.stdin.close()
            proc.wait(timeout=30)
