"""Pool processes never outlive the server, even when the server is SIGKILLed.

A killed server runs no exit handler, so its fork server and workers must notice on their
own. Two mechanisms, both armed here:

- on Linux, `prctl(PR_SET_PDEATHSIG, SIGKILL)`: the kernel kills a worker the moment its
  parent (the fork server's main thread, which forked it) ends;
- everywhere, a daemon thread that checks once a second whether the process's parent is
  still the one it started with (a dead parent's children are re-parented) and exits if not.

The fork server only gets the thread: PR_SET_PDEATHSIG fires when the *thread* that forked
a process ends, and the server starts its fork server from whichever script thread first
submits a job, which ends long before the server does.

The fork server imports this module as a preload (see runs.RunPool): the import arms the
watch there when HEADROOM_POOL_SERVER_PID names this process's parent, so the fork server
watches the server and the workers it forks watch the fork server.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

SERVER_PID_ENV = "HEADROOM_POOL_SERVER_PID"  # set by RunPool before it starts the fork server
POLL_S = 1.0
PR_SET_PDEATHSIG = 1


def _kill_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the watch thread still covers it


def _watch(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(POLL_S)


def arm(parent: int | None = None, pdeathsig: bool = True) -> None:
    """End this process when `parent` (default: the current parent) goes away."""
    parent = os.getppid() if parent is None else parent
    if pdeathsig:
        _kill_with_parent()
    if os.getppid() != parent:  # it died before the watch was armed
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="headroom-deathwatch", daemon=True).start()


if os.environ.get(SERVER_PID_ENV) == str(os.getppid()) and __name__ != "__main__":
    arm(os.getppid(), pdeathsig=False)  # this is the fork server: watch the server by polling only
