"""An open-loop Poisson load generator: requests leave at scheduled times, whatever is outstanding.

Send times are drawn in advance (exponential gaps at the offered rate, from a seed), so a slow
server cannot slow the offered load down (no coordinated omission): a request's latency is
measured from its scheduled time. Each request is one HTTP/1.1 exchange on a fresh loopback
connection (gunicorn's sync workers close the connection after each response anyway).
A phase is bounded in time and count: after `duration_s` nothing new is sent, and what is
still outstanding gets `timeout_s` more before it is counted as an error.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

MAX_REQUESTS = 200_000  # per phase, whatever the rate and duration ask for


@dataclass
class Record:
    """One request: offsets in seconds from the phase start (monotonic clock), and what came back."""

    sched_s: float
    sent_s: float
    done_s: float
    ok: bool
    cache: str = ""  # "hit" | "miss" | "" (error)
    wrote: bool = False
    error: str = ""

    @property
    def latency_ms(self) -> float:
        return (self.done_s - self.sched_s) * 1000.0


@dataclass
class PhaseRun:
    rate_rps: float
    duration_s: float
    start_wall: float  # time.time() at the phase start, to line records up with CPU samples
    records: list[Record]
    max_send_lag_ms: float  # how late the generator itself sent (a check that it kept up)


def schedule(rate_rps: float, duration_s: float, seed: int) -> list[float]:
    rnd = random.Random(seed)
    times, t = [], rnd.expovariate(rate_rps)
    while t < duration_s and len(times) < MAX_REQUESTS:
        times.append(t)
        t += rnd.expovariate(rate_rps)
    return times


async def _one(host: str, port: int, path: str, t0: float, sched: float, timeout_s: float) -> Record:
    loop = asyncio.get_running_loop()
    sent = loop.time() - t0
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            raw = await reader.read()
            writer.close()
    except TimeoutError:
        return Record(sched, sent, loop.time() - t0, False, error="timeout")
    except OSError as exc:
        return Record(sched, sent, loop.time() - t0, False, error=exc.__class__.__name__)
    done = loop.time() - t0
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = head[0].split(" ")[1] if head and len(head[0].split(" ")) > 1 else "?"
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
    if status != "200":
        return Record(sched, sent, done, False, error=f"http {status}")
    return Record(sched, sent, done, True, headers.get("x-cache", ""), headers.get("x-write") == "1")


async def _phase(
    host: str, port: int, path: str, times: list[float], timeout_s: float
) -> tuple[list[Record], float]:
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    tasks, max_lag = [], 0.0
    for sched in times:
        delay = sched - (loop.time() - t0)
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            max_lag = max(max_lag, -delay)
        tasks.append(asyncio.create_task(_one(host, port, path, t0, sched, timeout_s)))
    records = list(await asyncio.gather(*tasks))
    return records, max_lag * 1000.0


def run_phase(
    url: str,
    rate_rps: float,
    duration_s: float,
    *,
    seed: int = 1,
    timeout_s: float = 10.0,
    path: str = "/item",
) -> PhaseRun:
    """Offer `rate_rps` Poisson arrivals for `duration_s` seconds and wait for every answer (or its timeout)."""
    host, port = url.removeprefix("http://").split(":")
    times = schedule(rate_rps, duration_s, seed)
    start_wall = time.time()
    records, max_lag = asyncio.run(_phase(host, int(port), path, times, timeout_s))
    return PhaseRun(rate_rps, duration_s, start_wall, records, max_lag)
