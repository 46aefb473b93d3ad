"""A service's CPU per visit as both solvers see it: its own time, its misses, its workers.

Two fitted extensions (issue 11) change what one visit to a service costs, and they are
decided here once so the simulator and the analytic solver agree:

- `miss_ms`: CPU the service itself spends per miss of a cache it calls (deserialising a
  database row, filling the cache). A visit costs `service_ms + misses_per_visit * miss_ms`,
  so a what-if that lowers a hit ratio makes the caller dearer too, as it does on a real system.
- `worker_usl`: per-worker overhead. With `concurrency` N workers sharing the cores, CPU per
  request is scaled by the USL cost 1 + sigma (N - 1) + kappa N (N - 1), relative to the worker
  count the service time was measured at, so adding workers can make a service slower.
"""

from __future__ import annotations

from model.scenario.schema import CacheNode, Scenario, ServiceNode


def misses_per_visit(scenario: Scenario, node: ServiceNode) -> float:
    """Sync cache misses one visit to the service causes (calls to caches times their miss ratio)."""
    total = 0.0
    for call in node.calls:
        callee = scenario.nodes.get(call.to)
        if isinstance(callee, CacheNode):
            total += call.visits * (1.0 - callee.hit_ratio)
    return total


def service_visit_ms(scenario: Scenario, node: ServiceNode) -> float:
    """Mean CPU-ms per visit on one core at full speed: service_ms, plus misses, times the worker overhead."""
    mean_ms = node.service_ms + node.miss_ms * misses_per_visit(scenario, node)
    if node.worker_usl is not None and node.concurrency:
        mean_ms *= node.worker_usl.factor(node.concurrency)
    return mean_ms
