"""The real servers: PostgreSQL 15 and Redis from Debian, and the WSGI app under gunicorn.

Everything lives in one private temp directory and listens on loopback only (PostgreSQL on
a unix socket in that directory, Redis and gunicorn on free 127.0.0.1 ports). Each server
runs in its own session (its own process group), so `Stack.close` can stop the whole tree
of each, first politely and then with SIGKILL, and remove the directory, whatever happened
before (an exception, Ctrl-C, SIGTERM). initdb refuses to run as root, so as root the
PostgreSQL commands run as the `postgres` user (Debian's package creates it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.testbed import app as service_app

REPO = Path(__file__).resolve().parents[2]
PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
DB_USER = "testbed"


def pg_bin() -> Path | None:
    """The directory of PostgreSQL's server binaries (initdb, postgres), or None."""
    for d in (os.environ.get("TESTBED_PG_BIN"), *PG_BIN_DIRS):
        if d and (Path(d) / "initdb").exists() and (Path(d) / "postgres").exists():
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def redis_bin() -> str | None:
    return shutil.which("redis-server") or (
        ("/usr/bin/redis-server") if Path("/usr/bin/redis-server").exists() else None
    )


def missing_binaries() -> list[str]:
    """What the testbed needs from the OS and cannot find (empty when it can run)."""
    missing = []
    if pg_bin() is None:
        missing.append("PostgreSQL server (initdb, postgres: apt-get install postgresql)")
    if redis_bin() is None:
        missing.append("redis-server (apt-get install redis-server)")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        missing.append("runuser (to run PostgreSQL as a non-root user)")
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("a 'postgres' user (initdb refuses root; Debian's postgresql package creates it)")
    return missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pin(cores: str | None) -> list[str]:
    """The `taskset` prefix that places a command on `cores` (e.g. "0"), or nothing.

    Priority is not set here: servers inherit the runner's (`--nice` renices the runner first).
    """
    return ["taskset", "-c", cores] if cores and shutil.which("taskset") else []


@dataclass
class Stack:
    """The three servers of one testbed run and the temp directory they live in."""

    service_cores: str | None = None
    workers: int = 2
    hit_ratio: float = 0.75
    write_ratio: float = 0.1
    work_iters: int = 20000
    nice: int = 0  # the servers' sessions' priority (see set_priority)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="headroom-testbed-")))
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    redis_port: int = 0
    web_port: int = 0

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Stack:
        self._start_postgres()
        self._start_redis()
        self._seed()
        self.start_web()
        return self

    def close(self) -> None:
        """Stop every server (web first, the database last) and remove the temp directory."""
        for name in ("web", "redis", "postgres"):
            proc = self.procs.pop(name, None)
            if proc is not None:
                _stop_group(proc, signal.SIGINT if name == "postgres" else signal.SIGTERM)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.close()  # `with` does not call __exit__ when __enter__ fails
            raise

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ PostgreSQL

    @property
    def pg_dsn(self) -> str:
        return f"host={self.root} port=5432 dbname=postgres user={DB_USER}"

    def _as_pg_user(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _start_postgres(self) -> None:
        binary = pg_bin()
        data = self.root / "pgdata"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        _run(
            [
                *self._as_pg_user(),
                str(binary / "initdb"),
                "-D",
                str(data),
                "-U",
                DB_USER,
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            "initdb",
        )
        # No durability needed (a throwaway database): fsync off keeps disk noise out of the CPU numbers.
        cmd = [
            *pin(self.service_cores),
            *self._as_pg_user(),
            str(binary / "postgres"),
            "-D",
            str(data),
            "-c",
            "listen_addresses=",
            "-c",
            f"unix_socket_directories={self.root}",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "shared_buffers=64MB",
            "-c",
            "max_connections=50",
            "-c",
            "log_min_messages=warning",
        ]
        self._spawn("postgres", cmd)
        _wait(
            lambda: (self.root / ".s.PGSQL.5432").exists(),
            30,
            "PostgreSQL did not open its socket",
            self.procs["postgres"],
        )

    def _seed(self) -> None:
        import psycopg
        import redis

        for _ in range(50):
            try:
                conn = psycopg.connect(self.pg_dsn, autocommit=True)
                break
            except psycopg.OperationalError:
                time.sleep(0.2)
        else:
            raise RuntimeError("PostgreSQL does not accept connections")
        with conn:
            conn.execute(
                "CREATE TABLE items (id int PRIMARY KEY, category int NOT NULL, price numeric(10,2) NOT NULL)"
            )
            conn.execute(
                "CREATE TABLE orders (id bigserial PRIMARY KEY, item_id int NOT NULL, qty int NOT NULL, "
                "created timestamptz NOT NULL DEFAULT now())"
            )
            conn.execute(
                f"INSERT INTO items SELECT g, g % 50, (g % 997) / 10.0 FROM generate_series(1, {service_app.ITEMS}) g"
            )
            conn.execute(
                f"INSERT INTO orders (item_id, qty) SELECT (g % {service_app.ITEMS}) + 1, g % 5 + 1 "
                f"FROM generate_series(1, {service_app.ITEMS * service_app.ORDERS_PER_ITEM}) g"
            )
            conn.execute("CREATE INDEX orders_item ON orders (item_id)")
            conn.execute("VACUUM ANALYZE")
        client = redis.Redis(host="127.0.0.1", port=self.redis_port)
        client.flushall()
        pipe = client.pipeline()
        for k in range(service_app.HOT_KEYS):
            pipe.set(f"item:hot:{k}", f"hot item {k} " + "x" * 200)
        pipe.execute()
        client.close()

    def pids(self, name: str) -> list[int]:
        """The root pid of a server's process tree, or none while it restarts (for the CPU sampler).

        PostgreSQL's is the postmaster's from its pid file: under runuser the Popen's pid is runuser's.
        """
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return []
        if name == "postgres":
            try:
                return [int((self.root / "pgdata" / "postmaster.pid").read_text().split()[0])]
            except (OSError, ValueError, IndexError):
                return []
        return [proc.pid]

    # ------------------------------------------------------------ Redis

    def _start_redis(self) -> None:
        self.redis_port = free_port()
        cmd = [
            *pin(self.service_cores),
            redis_bin(),
            "--port",
            str(self.redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.root),
            "--protected-mode",
            "yes",
            "--loglevel",
            "warning",
        ]
        self._spawn("redis", cmd)
        _wait(lambda: _port_open(self.redis_port), 15, "Redis did not listen", self.procs["redis"])

    # ------------------------------------------------------------ the web service

    def start_web(self, workers: int | None = None, hit_ratio: float | None = None) -> None:
        """(Re)start gunicorn, e.g. with another worker count or hit ratio for a what-if."""
        if workers is not None:
            self.workers = workers
        if hit_ratio is not None:
            self.hit_ratio = hit_ratio
        old = self.procs.pop("web", None)
        if old is not None:
            _stop_group(old, signal.SIGTERM)
        self.web_port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "TESTBED_PG_DSN": self.pg_dsn,
            "TESTBED_REDIS_PORT": str(self.redis_port),
            "TESTBED_HIT_RATIO": str(self.hit_ratio),
            "TESTBED_WRITE_RATIO": str(self.write_ratio),
            "TESTBED_WORK_ITERS": str(self.work_iters),
        }
        cmd = [
            *pin(self.service_cores),
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.web_port}",
            "--backlog",
            "4096",
            "--timeout",
            "120",
            "--log-level",
            "warning",
            "--chdir",
            str(REPO),
            "benchmarks.testbed.app:application",
        ]
        self._spawn("web", cmd, env=env)
        _wait(lambda: _healthy(self.web_port), 30, "gunicorn did not answer /health", self.procs["web"])
        for _ in range(self.workers * 4):  # every worker opens its connections before load starts
            _healthy(self.web_port)

    def settle(self, max_s: float = 90.0) -> float:
        """Wait until the service answers promptly again; the seconds waited.

        Requests whose client timed out stay in gunicorn's accept queue and are still served
        (wasted work), so after an overload the next phase would start behind a backlog.
        """
        start = time.monotonic()
        while time.monotonic() - start < max_s:
            t = time.monotonic()
            if _healthy(self.web_port) and time.monotonic() - t < 0.2:
                break
            time.sleep(0.5)
        return time.monotonic() - start

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    # ------------------------------------------------------------ helpers

    def _spawn(self, name: str, cmd: list[str], env: dict | None = None) -> None:
        log = open(self.root / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
        log.close()
        if self.nice:
            set_priority(self.procs[name].pid, self.nice)

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.root / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def set_priority(pid: int, nice: int) -> None:
    """Nice a process and its session's autogroup.

    With autogroup scheduling (Linux's default for desktops and many servers) CPU is shared
    between sessions first and nice only orders processes inside one session; every server
    runs in its own session, so on a shared machine only the autogroup's nice gives it
    priority over other people's work. Needs root for negative values; failures are ignored.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except OSError:
        pass
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except OSError:
        pass


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-800:]}")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as resp:
            return resp.status == 200
    except OSError:
        return False


def _wait(ready, timeout_s: float, message: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return
        if proc.poll() is not None:
            raise RuntimeError(f"{message}: it exited with code {proc.returncode}")
        time.sleep(0.1)
    raise RuntimeError(f"{message} within {timeout_s:.0f} s")


def _stop_group(proc: subprocess.Popen, sig: int, grace_s: float = 10.0) -> None:
    """Signal the process's whole group (its own session), then SIGKILL what is left after the grace time."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        proc.wait()
        return
    try:
        os.killpg(pgid, sig)
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    try:
        os.killpg(pgid, signal.SIGKILL)  # children that outlived their leader, too
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
