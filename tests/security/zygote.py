"""A process that imports the CLI's dependencies once and forks one child per hostile case.

Started with a canary secret in its environment (so the children's /proc/self/environ holds
it), it reads one JSON request a line on stdin ({"argv", "cwd", "env", "timeout"}), runs
`cli.main(argv)` in a forked child under a memory cap (address space: what the imports
already take plus `HEADROOM_TEST_MEMORY_GROWTH` bytes) and a CPU cap, and answers one JSON
line: exit code (negative: killed by that signal; -999: timed out), stdout, stderr.
Forking skips the two to eight seconds an interpreter takes to import numpy, scipy, pandas
and pydantic on a loaded machine, which keeps fifty cases well inside a minute.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.getcwd())

import cli  # noqa: E402
import model.queueing.analytic.solver  # noqa: E402,F401  (the heavy imports, done once)
import model.fit.pipeline  # noqa: E402,F401
import model.planning.forecast  # noqa: E402,F401
import model.planning.recommend  # noqa: E402,F401
import model.queueing.sim.simulation  # noqa: E402,F401
import model.planning.sweep  # noqa: E402,F401


def _vm_bytes() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


GROWTH = int(os.environ.get("HEADROOM_TEST_MEMORY_GROWTH", 1_500_000_000))
CPU_SECONDS = int(os.environ.get("HEADROOM_TEST_CPU_SECONDS", 40))


def _child(request: dict, out_path: str, err_path: str) -> None:
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.update(request.get("env") or {})
        cap = _vm_bytes() + GROWTH
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, path in ((1, out_path), (2, err_path)):
            os.dup2(os.open(path, os.O_WRONLY | os.O_TRUNC), fd)
        try:
            code = cli.main(request["argv"])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    except BaseException:  # a traceback is a finding: show it
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code if isinstance(code, int) else 1)


def _run(request: dict) -> dict:
    out_fd, out_path = tempfile.mkstemp(prefix="hostile-out-")
    err_fd, err_path = tempfile.mkstemp(prefix="hostile-err-")
    os.close(out_fd)
    os.close(err_fd)
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        _child(request, out_path, err_path)
    deadline = time.monotonic() + float(request.get("timeout", 60))
    status = None
    while status is None:
        done, raw = os.waitpid(pid, os.WNOHANG)
        if done:
            status = raw
        elif time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = -1
        else:
            time.sleep(0.01)
    if status == -1:
        code = -999
    elif os.WIFSIGNALED(status):
        code = -os.WTERMSIG(status)
    else:
        code = os.WEXITSTATUS(status)
    texts = []
    for path in (out_path, err_path):
        with open(path, encoding="utf-8", errors="replace") as handle:
            texts.append(handle.read(2_000_000))
        os.unlink(path)
    return {"returncode": code, "stdout": texts[0], "stderr": texts[1]}


def main() -> None:
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(_run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
