"""A simulated run summarised as `Results`: latency percentiles and their batch-means intervals, errors,
per-node utilization and waits, Kafka lag and drops, what saturated, and the SLO verdict.

The measurement side of `Simulation` (model/queueing/sim/simulation.py), read after the run ends.
"""

from __future__ import annotations

import math

import numpy as np

from model.queueing.offered_load import offered_load, saturated_nodes
from model.queueing.results import KafkaStats, Latency, NodeStats, Results, check_slo
from model.queueing.statistics import batch_ci, percentiles
from model.queueing.topology import KafkaStation, reported_utilization, total_servers
from model.scenario.graph import arrival_rates


class RunSummary:
    """The run's `Results` (a mixin: it reads what a `Simulation` measured)."""

    def _results(self, hit_time_limit: bool) -> Results:
        now = self.env._now
        if not math.isfinite(self.measure_from):
            self.measure_from = 0.0  # nothing finished warm-up: measure the whole run
        window_ms = max(now - self.measure_from, 1e-9)
        # Time outside the stations (workload.network_ms) is a constant on every answered request.
        lat = np.asarray(self.latencies, dtype=float) + self.scenario.workload.network_ms
        measured = len(lat) + self.failed
        error_pct = 100.0 * self.failed / measured if measured else 100.0
        if len(lat):
            q = percentiles(lat)
            latency = Latency(float(lat.mean()), q[50], q[95], q[99])
        else:
            latency = Latency(math.inf, math.inf, math.inf, math.inf)
        ci = batch_ci(lat)
        # A replayed trace offers its own mean over the span simulated, not the peak it was scaled to.
        offered_rps = self.trace.mean_rps(0.0, now) if self.trace is not None else self.rate_rps
        amplification = self.client.amplification if self.client is not None else 1.0
        rates = arrival_rates(self.scenario, offered_rps * amplification)  # retries are arrivals too
        nodes: dict[str, NodeStats] = {}
        for name, st in self.stations.items():
            nodes[name] = self._node_stats(name, st, rates[name].visits, window_ms)
        kafka = {name: self._kafka_stats(name) for name in self.consumers}
        saturated = saturated_nodes(offered_load(self.scenario, self.stations, self.rate_rps * amplification))
        if hit_time_limit:
            # The run could not complete its requests in twice the expected time: something
            # other than a pool (worker slots held by slow calls) has run out of capacity.
            saturated = sorted(
                set(saturated)
                | {n for n, s in nodes.items() if s.utilization >= 0.95}
                | {n for n, s in self.slots.items() if s.free == 0 and s.waiting}
            )
        notes = []
        if hit_time_limit:
            notes.append(
                f"stopped at the time bound with {max(self.completed - self.limits.warmup_requests, 0):,} "
                f"of {self.limits.requests:,} requests measured: the system cannot keep up"
            )
        throughput_rps = len(lat) / window_ms * 1000.0
        retries = (
            self.client.stats(offered_rps, throughput_rps, error_pct, self.rate_rps) if self.client else None
        )
        return Results(
            scenario=self.scenario.name,
            method="sim",
            rate_rps=self.rate_rps,
            latency_ms=latency,
            throughput_rps=throughput_rps,
            error_pct=error_pct,
            nodes=nodes,
            kafka=kafka,
            slo=check_slo(self.scenario.slo, latency, error_pct, saturated),
            saturated=saturated,
            latency_ci95_ms=ci,
            requests=len(lat),
            notes=notes,
            retries=retries,
        )

    def _node_stats(self, name: str, st, arrival_rps: float, window_ms: float) -> NodeStats:
        servers = total_servers(st)
        if isinstance(st, KafkaStation):
            consumers = self.consumers[name]
            busy = sum(c.busy_ms for c in consumers)
            started = sum(c.started for c in consumers)
            wait = sum(c.wait_ms for c in consumers) / started if started else 0.0
            return NodeStats(arrival_rps, min(busy / (max(servers, 1) * window_ms), 1.0), servers, wait)
        pools = self.pools[name]
        busy = sum(p.busy_ms for p in pools)
        started = sum(p.started for p in pools)
        wait = sum(p.wait_ms for p in pools) / started if started else 0.0
        slots = self.slots.get(name)
        if slots is not None and slots.acquired:
            wait += slots.wait_ms / slots.acquired
        return NodeStats(
            arrival_rps,
            reported_utilization(st, min(busy / (servers * window_ms), 1.0)),
            servers,
            wait,
            st.host,
        )

    def _kafka_stats(self, name: str) -> KafkaStats:
        produced, dropped, lags = self.kafka_counts[name]
        if lags:
            q = percentiles(np.asarray(lags))
            p50, p99 = q[50], q[99]
        else:
            p50 = p99 = math.inf if produced else 0.0
        return KafkaStats(p50, p99, 100.0 * dropped / produced if produced else 0.0)
