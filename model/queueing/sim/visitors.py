"""How each node kind serves a request in the simulator, compiled once per node into a visitor.

The request behaviour of `Simulation` (model/queueing/sim/simulation.py), written to read like the
contract's semantics: a service serves then makes its calls (sync, async or to Kafka), a cache serves
and sends a miss on, a database serves a read on any instance and a write on the primary, Kafka takes
a message into a partition or drops it when the partition is full; a timeout wraps any of them.
"""

from __future__ import annotations

from typing import Callable

from model.queueing.sim.engine import ACQUIRE, DEADLINE, DELAY, SERVE, Flow
from model.scenario.schema import CacheNode, DatabaseNode, KafkaNode, ServiceNode


def as_generator(sub):
    """A visitor's result as a generator, where a flow of its own must drive it."""
    if type(sub) is tuple:
        return _one_step(sub)
    return sub


def _one_step(step):
    yield step


class RequestBehaviour:
    """The visitors of a `Simulation`'s nodes (a mixin: it reads the pools, samplers and streams the
    simulation built)."""

    # ------------------------------------------------------------ request behaviour
    #
    # Each node is compiled once into a visitor: visitor(op, failed) returns either one
    # step (a single service, e.g. a database read) or a generator of steps. Returning a
    # bare step where one suffices keeps `yield from` chains short, which is most of the
    # per-visit cost in Python.

    def _compile_visitors(self) -> None:
        self.visitors: dict[str, Callable] = {}
        for name, node in self.scenario.nodes.items():
            if isinstance(node, ServiceNode):
                visitor = self._service_visitor(name, node)
            elif isinstance(node, CacheNode):
                visitor = self._cache_visitor(name, node)
            elif isinstance(node, DatabaseNode):
                visitor = self._database_visitor(name)
            else:
                visitor = self._kafka_visitor(name, node)
            if isinstance(node, ServiceNode) and node.timeout_ms and name != self.scenario.entry:
                visitor = self._with_deadline(visitor, node.timeout_ms)
            self.visitors[name] = visitor

    def _service_visitor(self, name: str, node: ServiceNode) -> Callable:
        pool, sample, slots = self.pools[name][0], self.samplers[name], self.slots.get(name)
        blocking, uniform, visitors, env = node.blocking_calls, self.uniform, self.visitors, self.env
        calls = []
        for call in node.calls:
            whole = int(call.visits)
            to_kafka = isinstance(self.scenario.nodes[call.to], KafkaNode)
            calls.append(
                (
                    whole,
                    call.visits - whole,
                    call.to,
                    call.op,
                    "kafka" if to_kafka else call.mode,
                    call.mode == "sync",
                )
            )

        def visit(op: str, failed: list):
            if slots is not None:
                yield (ACQUIRE, slots, None)
            yield (SERVE, pool, sample())
            if slots is not None and not blocking:
                slots.release()
            for whole, frac, to, call_op, mode, sync in calls:
                count = whole + 1 if frac and uniform() < frac else whole
                for _ in range(count):
                    if mode == "kafka":
                        yield from visitors[to](call_op, failed, sync)
                    elif mode == "async":
                        Flow(env, as_generator(visitors[to](call_op, [False]))).advance(None)
                    else:
                        sub = visitors[to](call_op, failed)
                        if type(sub) is tuple:
                            yield sub
                        else:
                            yield from sub
                        if failed[0]:
                            break
                if failed[0]:
                    break
            if slots is not None and blocking:
                slots.release()

        return visit

    def _cache_visitor(self, name: str, node: CacheNode) -> Callable:
        pool, sample, uniform, visitors = (
            self.pools[name][0],
            self.samplers[name],
            self.uniform,
            self.visitors,
        )
        hit_ratio, miss = node.hit_ratio, node.miss
        if miss is None:
            return lambda op, failed: (SERVE, pool, sample())

        def visit(op: str, failed: list):
            yield (SERVE, pool, sample())
            if uniform() >= hit_ratio:
                sub = visitors[miss]("read", failed)
                if type(sub) is tuple:
                    yield sub
                else:
                    yield from sub

        return visit

    def _database_visitor(self, name: str) -> Callable:
        pools, uniform = self.pools[name], self.uniform
        read, write = self.samplers[name + ":read"], self.samplers[name + ":write"]
        primary, count = pools[0], len(pools)
        if count == 1:
            return lambda op, failed: (SERVE, primary, write() if op == "write" else read())
        return lambda op, failed: (
            (SERVE, primary, write()) if op == "write" else (SERVE, pools[int(uniform() * count)], read())
        )

    def _kafka_visitor(self, name: str, node: KafkaNode) -> Callable:
        counts, stats, consumers = self.backlog[name], self.kafka_counts[name], self.consumers[name]
        produce, uniform, env = self.samplers[name + ":produce"], self.uniform, self.env
        partitions, owners, capacity = len(counts), node.consumers, node.max_backlog

        def visit(op: str, failed: list, sync: bool = True):
            """Wait for the acknowledgement, then the message joins a random partition."""
            if node.produce_ms > 0:
                yield (DELAY, None, produce())
            partition = int(uniform() * partitions)
            measuring = env._now >= self.measure_from
            if measuring:
                stats[0] += 1
            if counts[partition] >= capacity:
                if measuring:
                    stats[1] += 1
                if sync:
                    failed[0] = True
                return
            counts[partition] += 1
            consumers[partition % owners].offer(partition)

        return visit

    @staticmethod
    def _with_deadline(visitor: Callable, timeout_ms: float) -> Callable:
        def visit(op: str, failed: list):
            ok = yield (DEADLINE, as_generator(visitor(op, failed)), timeout_ms)
            if not ok:
                failed[0] = True

        return visit
