"""The discrete-event core: FIFO server pools, slot pools and Kafka consumers on SimPy.

Each request is a plain Python generator that yields what it needs next (service at a
pool, a slot, a delay, a call with a deadline). A `Flow` drives it with SimPy events and
callbacks instead of a `simpy.Process` per request and a `simpy.Resource` per station:
the same event queue and clock, but a fraction of the objects per visit, which is where
an idiomatic SimPy model spends its time. Random numbers are drawn in numpy blocks.
"""

from __future__ import annotations

from collections import deque
from typing import Callable, Generator, Iterator

import numpy as np
from simpy import Environment
from simpy.events import Timeout

# What a request generator may yield, as (kind, target, argument).
SERVE = 0  # (SERVE, Pool, duration_ms): queue FIFO for a server, hold it for duration
DELAY = 1  # (DELAY, None, duration_ms): wait without holding anything
ACQUIRE = 2  # (ACQUIRE, SlotPool, None): take a slot, queueing FIFO when none is free
DEADLINE = 3  # (DEADLINE, generator, timeout_ms): run a sub-request; resume with True if
# it finished in time, False at the deadline (the sub-request runs on)

Step = tuple
RequestGen = Generator[Step, object, None]

BLOCK = 8192


def block_stream(draw: Callable[[], np.ndarray]) -> Callable[[], float]:
    """An endless stream of floats from a block sampler: one numpy call per BLOCK values."""

    def values() -> Iterator[float]:
        while True:
            yield from draw().tolist()

    return values().__next__


class Pool:
    """`servers` identical servers behind one FIFO queue (an M/G/c station)."""

    def __init__(self, env: Environment, name: str, servers: int):
        self.env, self.name, self.servers = env, name, servers
        self.busy = 0
        self.queue: deque = deque()
        # Measurement, counted from `measure_from` (the end of the warm-up).
        self.measure_from = 0.0
        self.busy_ms = 0.0
        self.wait_ms = 0.0
        self.started = 0

    def start_measuring(self, now: float) -> None:
        self.measure_from, self.busy_ms, self.wait_ms, self.started = now, 0.0, 0.0, 0

    def _start(self, flow: "Flow", duration: float, queued_at: float) -> None:
        now = self.env._now
        if now >= self.measure_from:
            self.busy_ms += duration
            self.wait_ms += now - queued_at
            self.started += 1
        flow.pool = self
        Timeout(self.env, duration).callbacks.append(flow.served)

    def release(self) -> None:
        if self.queue and self.busy <= self.servers:
            flow, duration, queued_at = self.queue.popleft()
            self._start(flow, duration, queued_at)
        else:
            self.busy -= 1

    def resize(self, servers: int) -> None:
        """Change the server count now (autoscaling); extra work starts at once."""
        self.servers = servers
        while self.queue and self.busy < self.servers:
            self.busy += 1
            flow, duration, queued_at = self.queue.popleft()
            self._start(flow, duration, queued_at)


class SlotPool:
    """Worker slots (threads): a request holds one from arrival until it lets go."""

    def __init__(self, env: Environment, name: str, slots: int):
        self.env, self.name, self.slots = env, name, slots
        self.free = slots
        self.waiting: deque = deque()
        self.measure_from = 0.0
        self.wait_ms = 0.0
        self.acquired = 0

    def start_measuring(self, now: float) -> None:
        self.measure_from, self.wait_ms, self.acquired = now, 0.0, 0

    def acquire(self, flow: "Flow") -> bool:
        """True when a slot was free; otherwise the flow resumes when one is handed over."""
        if self.free > 0:
            self.free -= 1
            if self.env._now >= self.measure_from:
                self.acquired += 1
            return True
        self.waiting.append((flow, self.env._now))
        return False

    def release(self) -> None:
        if self.free < 0:
            # Slots were taken away (scale-in) while held: this one leaves instead of passing on.
            self.free += 1
        elif self.waiting:
            flow, queued_at = self.waiting.popleft()
            now = self.env._now
            if now >= self.measure_from:
                self.wait_ms += now - queued_at
                self.acquired += 1
            # Resume on the event queue, not on this stack: releases can chain deeply.
            Timeout(self.env, 0).callbacks.append(flow.resumed)
        else:
            self.free += 1


class Flow:
    """Drives one request generator through the event queue."""

    __slots__ = ("env", "gen", "pool", "on_done", "started_at", "failed")

    def __init__(
        self,
        env: Environment,
        gen: RequestGen,
        on_done: Callable[["Flow"], None] | None = None,
        failed: list | None = None,
    ):
        self.env, self.gen, self.on_done, self.failed = env, gen, on_done, failed
        self.pool: Pool | None = None
        self.started_at = env._now

    def served(self, _event) -> None:
        self.pool.release()
        self.advance(None)

    def resumed(self, _event) -> None:
        self.advance(None)

    def advance(self, value: object) -> None:
        send = self.gen.send
        while True:
            try:
                kind, target, arg = send(value)
            except StopIteration:
                if self.on_done is not None:
                    self.on_done(self)
                return
            if kind == SERVE:
                # A free server starts at once (Pool._start inlined: the hottest path of a run),
                # else the request queues FIFO at the pool.
                if target.busy < target.servers:
                    target.busy += 1
                    env = self.env
                    if env._now >= target.measure_from:
                        target.busy_ms += arg
                        target.started += 1
                    self.pool = target
                    Timeout(env, arg).callbacks.append(self.served)
                else:
                    target.queue.append((self, arg, self.env._now))
                return
            if kind == DELAY:
                Timeout(self.env, arg).callbacks.append(self.resumed)
                return
            if kind == ACQUIRE:
                if target.acquire(self):
                    value = None
                    continue
                return
            if kind == DEADLINE:
                Deadline(self, target, arg)
                return
            raise ValueError(f"unknown step {kind!r}")


class Deadline:
    """A sub-request with a deadline: the parent resumes at whichever comes first."""

    __slots__ = ("parent", "settled")

    def __init__(self, parent: Flow, gen: RequestGen, timeout_ms: float):
        self.parent, self.settled = parent, False
        Timeout(parent.env, timeout_ms).callbacks.append(self._expired)
        Flow(parent.env, gen, self._finished).advance(None)

    def _finished(self, _flow: Flow) -> None:
        if not self.settled:
            self.settled = True
            self.parent.advance(True)

    def _expired(self, _event) -> None:
        if not self.settled:
            self.settled = True
            self.parent.advance(False)


class Consumer:
    """A Kafka consumer: one message at a time, FIFO over the partitions it owns."""

    def __init__(
        self, env: Environment, consume: Callable[[], float], on_consumed: Callable[[int, float], None]
    ):
        self.env, self.consume, self.on_consumed = env, consume, on_consumed
        self.busy = False
        self.queue: deque = deque()
        self.current: tuple[int, float] | None = None
        self.measure_from = 0.0
        self.busy_ms = 0.0
        self.wait_ms = 0.0  # time messages spent queued in their partition before consumption
        self.started = 0

    def start_measuring(self, now: float) -> None:
        self.measure_from, self.busy_ms, self.wait_ms, self.started = now, 0.0, 0.0, 0

    def offer(self, partition: int) -> None:
        message = (partition, self.env._now)
        if self.busy:
            self.queue.append(message)
        else:
            self._start(message)

    def _start(self, message: tuple[int, float]) -> None:
        self.busy = True
        self.current = message
        duration = self.consume()
        now = self.env._now
        if now >= self.measure_from:
            self.busy_ms += duration
            if message[1] >= self.measure_from:
                self.wait_ms += now - message[1]
                self.started += 1
        Timeout(self.env, duration).callbacks.append(self._done)

    def _done(self, _event) -> None:
        partition, produced_at = self.current
        self.on_consumed(partition, produced_at)
        if self.queue:
            self._start(self.queue.popleft())
        else:
            self.busy = False
            self.current = None
