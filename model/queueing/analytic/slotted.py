"""The analytic solver's worker slots: what a held slot waits for, and the slot wait itself.

A slot held through sync calls (`blocking_calls`) waits for the node's own cores and for
everything its calls do. `held_work` walks those calls once: work on the node's own pool (the
callees that share its host) joins the cores' demand; a database instance or a cache lookup
elsewhere is a FCFS queue of the closed sub-network (the slots bound how many requests queue
there); anything else (a service elsewhere, a producer's wait) is a delay of its mean response.
`slotted_response` then solves the slots with model.queueing.analytic.slots and composes the visit's delay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model.queueing.analytic.delay_grid import (
    INFINITE,
    ZERO,
    Delay,
    Mixture,
    Repeat,
    Sum,
    queue_wait,
    service_delay,
)
from model.queueing.analytic.formulas import erlang_c, erlangs
from model.queueing.analytic.slots import Queue, solve_slots, wait_scv
from model.queueing.topology import CacheStation, DatabaseStation, KafkaStation, ServiceStation

# `solver` below is the analytic solver's _Solver (and `_Pool` its pools); they are named in quotes only,
# not imported, so this module stays below the solver that calls it (tests/test_architecture.py).
_Solver = _Pool = Any


@dataclass
class HeldWork:
    """Per request at the slotted node: demand on its own pool, on other pools, and plain delay."""

    own_pool_ms: float = 0.0
    pools: dict[int, tuple["_Pool", float, float]] = field(default_factory=dict)  # id -> (pool, ms, erlangs)
    delay_ms: float = 0.0

    def add(self, pool: "_Pool", demand_ms: float, rate_rps: float) -> None:
        """`demand_ms` per request of the slotted node, which arrive at `rate_rps`: their load on `pool`
        is rate x demand (the visits are in the demand already; counting them in the rate too made a
        callee visited 0.35 times per request look 65 % busy with other callers' work)."""
        _, ms, load = self.pools.get(id(pool), (pool, 0.0, 0.0))
        self.pools[id(pool)] = (pool, ms + demand_ms, load + erlangs(rate_rps, demand_ms))

    def queues(self) -> tuple[Queue, ...]:
        """Each pool as a queue, slowed by the work other callers bring it."""
        out = []
        for pool, ms, load in self.pools.values():
            others = max(pool.load - load, 0.0) / pool.servers
            out.append(Queue(pool.servers, ms / max(1.0 - others, 1e-12)))
        return tuple(out)


def held_work(solver: "_Solver", station: ServiceStation) -> HeldWork:
    work = HeldWork()
    rate_rps = solver.rates[station.name].visits
    for call in solver.scenario.nodes[station.name].calls:
        if isinstance(solver.stations[call.to], KafkaStation) or call.mode == "sync":
            _visit(solver, station.pool, call.to, call.op, call.visits, rate_rps, work)
    return work


def _visit(
    solver: "_Solver", own_pool: str, name: str, op: str, visits: float, rate_rps: float, work: HeldWork
) -> None:
    """`visits` visits per request to node `name`, made while the slot is held."""
    st = solver.stations[name]
    if isinstance(st, KafkaStation):
        work.delay_ms += visits * solver.response(name).mean_ms
        return
    shares_host = getattr(st, "host", None) is not None and _pool_of(st) == own_pool
    if isinstance(st, DatabaseStation) and (shares_host or st.host is None):
        service = st.write if op == "write" else st.read
        if shares_host:
            work.own_pool_ms += visits * service.mean_ms
        elif op == "write":
            work.add(solver.pools[name][0], visits * service.mean_ms, rate_rps)
        else:
            for pool in solver.pools[name]:
                work.add(pool, visits / st.instances * service.mean_ms, rate_rps)
        return
    if isinstance(st, CacheStation) and (shares_host or st.host is None):
        if shares_host:
            work.own_pool_ms += visits * st.service.mean_ms
        else:
            work.add(solver.pools[name][0], visits * st.service.mean_ms, rate_rps)
        if st.miss is not None and st.hit_ratio < 1:
            _visit(solver, own_pool, st.miss, "read", visits * (1.0 - st.hit_ratio), rate_rps, work)
        return
    if isinstance(st, ServiceStation) and shares_host and st.slots is None:
        work.own_pool_ms += visits * st.service.mean_ms
        for call in solver.scenario.nodes[name].calls:
            if isinstance(solver.stations[call.to], KafkaStation) or call.mode == "sync":
                _visit(solver, own_pool, call.to, call.op, visits * call.visits, rate_rps, work)
        return
    work.delay_ms += visits * solver.response(name, op).mean_ms


def _held(solver: "_Solver", name: str) -> list:
    """The calls a visit to `name` waits for, in order (as the solver's _calls)."""
    return [
        c
        for c in solver.scenario.nodes[name].calls
        if isinstance(solver.stations[c.to], KafkaStation) or c.mode == "sync"
    ]


def _in_slot(solver: "_Solver", own_pool: str, name: str, op: str) -> Delay:
    """A visit's delay with no wait at `own_pool` (the slot's sub-network accounts for it)."""
    st = solver.stations[name]
    if isinstance(st, KafkaStation) or getattr(st, "host", None) is None or _pool_of(st) != own_pool:
        return solver.response(name, op)
    if isinstance(st, DatabaseStation):
        return service_delay(st.write if op == "write" else st.read)
    if isinstance(st, CacheStation):
        own = service_delay(st.service)
        if st.miss is None or st.hit_ratio >= 1:
            return own
        return Sum(
            [
                own,
                Mixture(
                    [(st.hit_ratio, ZERO), (1.0 - st.hit_ratio, _in_slot(solver, own_pool, st.miss, "read"))]
                ),
            ]
        )
    if st.slots is not None:
        return solver.response(name, op)
    return Sum(
        [service_delay(st.service)]
        + [Repeat(_in_slot(solver, own_pool, c.to, c.op), c.visits) for c in _held(solver, name)]
    )


def _pool_of(st) -> str:
    return st.pools[0] if isinstance(st, DatabaseStation) else st.pool


def slotted_response(solver: "_Solver", station: ServiceStation, pool: "_Pool", calls: list[Delay]) -> Delay:
    """Slots and cores solved together (model.queueing.analytic.slots): the wait for a slot, then the slot's holding
    time: the cores' queue and service, and the sync calls when blocking."""
    name = station.name
    held_calls = calls if station.blocking_calls else []
    delay = Sum(held_calls)
    if not delay.finite:  # a saturated callee: it is the one named saturated
        return INFINITE
    arrival_rps = solver.rates[name].visits
    work = held_work(solver, station) if station.blocking_calls else HeldWork()
    cpu_demand_ms = station.service.mean_ms + work.own_pool_ms  # the callees on its host run on its cores
    others = max(pool.load - erlangs(arrival_rps, cpu_demand_ms), 0.0) / pool.servers
    if pool.load >= pool.servers or others >= 1.0:
        solver.saturated.add(name)
        return INFINITE
    solution = solve_slots(
        arrival_rps, station.slots, pool.servers, cpu_demand_ms / (1.0 - others), work.delay_ms, work.queues()
    )
    if solution.saturated:
        solver.saturated.add(name)
        return INFINITE
    arrival_scv = solver.arrival_scv_at(name)
    if work.own_pool_ms > 0:
        # Callees share the node's cores: inside the slot their visits there wait only behind the
        # slots' own work, which the sub-network counts; so the held calls are taken without their
        # waits on this pool, and all the waiting at the cores is one wait of the sub-network's mean.
        held_calls = [
            Repeat(_in_slot(solver, station.pool, c.to, c.op), c.visits) for c in _held(solver, name)
        ]
        delay = Sum(held_calls)
        cpu_wait_ms = max(solution.holding_ms - station.service.mean_ms - delay.mean_ms, 0.0)
    else:
        cpu_wait_ms = max(solution.cpu_ms - station.service.mean_ms, 0.0)
    cpu_wait = queue_wait(
        erlang_c(pool.servers, pool.load), cpu_wait_ms * (arrival_scv + station.service.scv) / 2.0
    )
    holding = Sum([cpu_wait, service_delay(station.service)] + held_calls)
    holding_scv = holding.var_ms2 / holding.mean_ms**2 if holding.mean_ms > 0 else 1.0
    scv = wait_scv(station.slots, pool.servers, solution.cpu_bound, station.service.scv, holding_scv)
    slot_wait = queue_wait(solution.prob_wait, solution.slot_wait_ms * (arrival_scv + scv) / 2.0)
    solver.slot_waits[name], solver.cpu_waits[name] = slot_wait, cpu_wait
    what = "its cores and sync calls" if held_calls else "its cores"
    solver.notes.append(
        f"{name}: {station.slots} worker slot(s) and {what} solved together (a flow-equivalent "
        "server: exact means for exponential work; other shapes scale the waits by Allen-Cunneen's "
        "factor; percentiles take the waits as exponential)"
    )
    return Sum([slot_wait, holding] + ([] if station.blocking_calls else calls))
