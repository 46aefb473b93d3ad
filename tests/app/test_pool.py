"""The worker pool under faults: a killed worker, a job over its limit, a superseded job, a session that left.

Jobs here are `eval` of the job's key (a builtin every worker can import), so no test-only
code has to live in the app.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from streamlit_ui.run_pool import JobCancelled, JobTimeout, RunPool, WorkerDied

SLEEP = "__import__('time').sleep({})"


@pytest.fixture(scope="module")
def pool():
    pool = RunPool(workers=2, limit_s=60)
    yield pool
    pool.shutdown(terminate=True)


def _worker_of(pool: RunPool, key: str, timeout_s: float = 60) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for run in list(pool._active):
            if run.key == key and run.process is not None and run.process.pid:
                return run.process.pid
        time.sleep(0.02)
    raise AssertionError(f"job {key} never started")


def test_a_killed_worker_fails_its_job_and_the_next_job_runs(pool):
    key = SLEEP.format(300.0)
    run = pool.submit(key, eval)
    os.kill(_worker_of(pool, key), signal.SIGKILL)  # as the kernel's out-of-memory killer would
    with pytest.raises(WorkerDied):
        pool.wait(run, lambda f: None, timeout_s=60)
    after = pool.submit("6 * 7", eval)
    assert pool.wait(after, lambda f: None, timeout_s=60) == 42
    assert pool.answer("6 * 7") == 42


def test_a_job_over_its_time_limit_is_stopped_with_the_limit_in_the_message(pool):
    run = pool.submit(SLEEP.format(301.0), eval, limit_s=1.0)
    with pytest.raises(JobTimeout, match="stopped after 1 s"):
        pool.wait(run, lambda f: None, timeout_s=60)
    assert not any(r.key == run.key for r in pool._active)  # its process was killed, not left running
    assert pool.wait(pool.submit("1 + 1", eval), lambda f: None, timeout_s=60) == 2


def test_a_newer_change_supersedes_the_same_sessions_older_job(pool):
    first = pool.submit(SLEEP.format(302.0), eval, owner="session-a:sim")
    _worker_of(pool, first.key)
    shared = pool.submit(SLEEP.format(0.5), eval, owner="session-b:sim")
    second = pool.submit("2 + 3", eval, owner="session-a:sim")
    with pytest.raises(JobCancelled):
        pool.wait(first, lambda f: None, timeout_s=60)
    assert pool.wait(second, lambda f: None, timeout_s=60) == 5
    assert pool.wait(shared, lambda f: None, timeout_s=60) is None  # another session's job is untouched


def test_a_job_still_wanted_by_another_session_is_not_cancelled(pool):
    key = SLEEP.format(1.5)
    run = pool.submit(key, eval, owner="one:sim")
    assert pool.submit(key, eval, owner="two:sim") is run  # joined, not started twice
    pool.submit("3 + 4", eval, owner="one:sim")  # one moved on; two still waits
    assert pool.wait(run, lambda f: None, timeout_s=60) is None


def test_the_jobs_of_a_session_that_left_are_cancelled():
    connected = {"gone-session": True}
    pool = RunPool(workers=1, limit_s=60, owner_alive=lambda owner: connected.get(owner.split(":")[0], False))
    try:
        key = SLEEP.format(303.0)
        run = pool.submit(key, eval, owner="gone-session:sim")
        _worker_of(pool, key)
        time.sleep(1.5)  # the supervisor sees the session connected once
        connected["gone-session"] = False
        with pytest.raises(JobCancelled):
            pool.wait(run, lambda f: None, timeout_s=60)
        # a session never seen connected (the script health check's) keeps its job
        assert (
            pool.wait(pool.submit("5 + 5", eval, owner="health-check:sim"), lambda f: None, timeout_s=60)
            == 10
        )
    finally:
        pool.shutdown(terminate=True)
