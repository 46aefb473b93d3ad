"""Hit ratios and visit ratios from request counts: the shape of the graph, from the metrics.

Counts are cheaper to trust than CPU: a cache's hits and misses give its hit ratio
directly, a database's read and write counts per entry request give how often a request
reads and writes, a topic's messages per request how often it produces. A call whose
`visits` the fit file leaves out is solved from those counts, one edge at a time in the
order requests flow; a call whose `visits` is given is kept, and a count that disagrees
with it is reported, since one of the two is wrong.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import ValidationError

from model.fit.demand import _autocorrelation_factor
from model.fit.file import FitFile
from model.scenario.schema import NODE_TYPES
from model.fit.errors import FitError
from model.fit.series import Observations
from model.scenario.graph import UnboundedVisitsError, visit_ratios
from model.scenario.schema import GraphError, Scenario

# Placeholders that make a scenario valid enough to compute visit ratios (they depend on calls only).
PLACEHOLDER = {
    "service": {"service_ms": 1.0},
    "cache": {"hit_ratio": 0.5},
    "database": {"read_ms": 1.0},
    "kafka": {"consume_ms": 1.0},
}
SCENARIO_KEYS = {
    kind: tuple(k for k in node.model_fields if k != "kind") for kind, node in NODE_TYPES.items()
}


@dataclass(frozen=True)
class Ratio:
    value: float
    ci95: tuple[float, float]
    points: int
    basis: str


def ratio(num: pd.Series, den: pd.Series, basis: str) -> Ratio | None:
    """Sum over sum over the common periods, with the ratio estimator's interval (autocorrelation-widened)."""
    both = pd.concat([num.rename("n"), den.rename("d")], axis=1).dropna()
    if len(both) < 2 or both["d"].sum() <= 0:
        return None
    n, d = both["n"].to_numpy(), both["d"].to_numpy()
    r = float(n.sum() / d.sum())
    e = n - r * d
    se = float(np.sqrt(np.sum(e**2) / (len(e) * (len(e) - 1))) / d.mean()) * float(
        np.sqrt(_autocorrelation_factor(e))
    )
    return Ratio(r, (r - 1.96 * se, r + 1.96 * se), len(both), basis)


@dataclass(frozen=True)
class Edge:
    """One way requests reach a node: a call (index into the caller's calls) or a cache's misses."""

    src: str
    index: int | None  # None for a miss edge
    to: str
    op: str  # read | write
    free: bool  # visits not given in the fit file: the fit may set it


def given_values(fit: FitFile, name: str) -> dict:
    """The scenario keys the fit file gives for a node, calls as plain dicts."""
    node = fit.nodes[name]
    out: dict = {"kind": node.kind}
    for key in SCENARIO_KEYS[node.kind]:
        value = getattr(node, key, None)
        if value is None or key == "calls" or (key == "replicas" and node.replicas_metric):
            continue  # a replicas metric is read from the series (fit_params), not copied
        if hasattr(value, "model_dump"):
            value = value.model_dump(exclude_none=True)
        elif isinstance(value, float) and value.is_integer() and key == "cpus":
            value = int(value)
        out[key] = value
    if node.kind == "service":
        out["calls"] = [
            {"to": c.to, "visits": c.visits, **c.model_dump(include={"op", "mode"}, exclude_defaults=True)}
            for c in node.calls or []
        ]
    return out


def edges(fit: FitFile) -> list[Edge]:
    out = []
    for name, node in fit.nodes.items():
        for i, call in enumerate(node.calls or []):
            out.append(Edge(name, i, call.to, call.op, "visits" not in call.model_fields_set))
        if node.kind == "cache" and node.miss:
            out.append(Edge(name, None, node.miss, "read", False))
    return out


def provisional(fit: FitFile, data: dict[str, dict]) -> Scenario:
    """A scenario with the current calls and hit ratios and placeholder times: enough for visit ratios."""
    nodes = {}
    for name, values in data.items():
        node = {**PLACEHOLDER[values["kind"]], **values}
        nodes[name] = node
    try:
        hosts = {h: {"cpus": v.cpus} for h, v in (fit.hosts or {}).items()}
        return Scenario.model_validate(
            {
                "version": 1,
                "name": "fit",
                "workload": {"rate_rps": 1.0},
                "entry": fit.entry,
                "nodes": nodes,
                "hosts": hosts,
            }
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, GraphError):
            raise FitError(f"fit file: {'.'.join(map(str, inner.path))}: {inner.message}") from None
        raise FitError(f"fit file: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def node_visits(fit: FitFile, data: dict[str, dict]) -> dict:
    try:
        return visit_ratios(provisional(fit, data))
    except UnboundedVisitsError as exc:
        raise FitError(f"fit file: nodes: {exc}") from None


def measured_visits(fit: FitFile, obs: Observations) -> dict[tuple[str, str], Ratio]:
    """(node, read|write|all) -> visits per entry request, from the node's own counts."""
    out: dict[tuple[str, str], Ratio] = {}
    traffic = obs.traffic_rps
    for name, node in fit.nodes.items():
        if name == fit.entry:
            continue
        rates = {k.rsplit(".", 1)[1]: v for k, v in obs.rates.items() if k.startswith(f"nodes.{name}.")}
        if node.kind == "service" and "requests" in rates:
            r = ratio(rates["requests"], traffic, f"nodes.{name}.requests / traffic")
            if r:
                out[(name, "all")] = r
        elif node.kind == "cache" and "hits" in rates and "misses" in rates:
            r = ratio(rates["hits"] + rates["misses"], traffic, f"(nodes.{name}.hits + misses) / traffic")
            if r:
                out[(name, "all")] = r
        elif node.kind == "database":
            for op, key in (("read", "reads"), ("write", "writes")):
                if key in rates:
                    r = ratio(rates[key], traffic, f"nodes.{name}.{key} / traffic")
                    if r:
                        out[(name, op)] = r
        elif node.kind == "kafka" and "messages_in" in rates:
            r = ratio(rates["messages_in"], traffic, f"nodes.{name}.messages_in / traffic")
            if r:
                out[(name, "all")] = r
    return out


def hit_ratios(fit: FitFile, obs: Observations) -> dict[str, Ratio]:
    out = {}
    for name, node in fit.nodes.items():
        hits, misses = obs.rates.get(f"nodes.{name}.hits"), obs.rates.get(f"nodes.{name}.misses")
        if node.kind == "cache" and hits is not None and misses is not None:
            r = ratio(hits, hits + misses, f"nodes.{name}.hits / (hits + misses)")
            if r:
                out[name] = Ratio(
                    min(max(r.value, 0.0), 1.0), (max(r.ci95[0], 0.0), min(r.ci95[1], 1.0)), r.points, r.basis
                )
    return out


def fit_visits(
    fit: FitFile, data: dict[str, dict], obs: Observations, warnings: list[str]
) -> dict[tuple[str, int], Ratio]:
    """Set each free call's visits from counts, in the order requests flow; returns what was set."""
    measured = measured_visits(fit, obs)
    all_edges = edges(fit)
    order = _flow_order(fit.entry, all_edges)
    fitted: dict[tuple[str, int], Ratio] = {}
    for target in order:
        for cls in ("all", "read", "write"):
            m = measured.get((target, cls))
            if m is None:
                continue
            incoming = [e for e in all_edges if e.to == target and (cls == "all" or e.op == cls)]
            free = [e for e in incoming if e.free and (e.src, e.index) not in fitted]
            visits = node_visits(fit, data)
            known = sum(visits[e.src].visits * _edge_visits(data, e) for e in incoming if e not in free)
            what = {"all": "visits", "read": "read visits", "write": "write visits"}[cls]
            if len(free) == 1 and visits[free[0].src].visits > 0:
                edge = free[0]
                caller = visits[edge.src].visits
                value = float(max(0.0, (m.value - known) / caller))
                ci = (max(0.0, (m.ci95[0] - known) / caller), max(0.0, (m.ci95[1] - known) / caller))
                data[edge.src]["calls"][edge.index]["visits"] = round(float(value), 4)
                fitted[(edge.src, edge.index)] = Ratio(value, ci, m.points, m.basis)
            elif not free and incoming:
                if m.value > 0 and abs(known - m.value) > 0.1 * m.value + 0.005:
                    warnings.append(
                        f"nodes.{target}: counts give {m.value:.3f} {what} per entry request ({m.basis}), "
                        f"the graph's given visits {known:.3f}; the given visits were kept"
                    )
            elif len(free) > 1:
                warnings.append(
                    f"nodes.{target}: {len(free)} calls without visits reach it; counts ({m.value:.3f} {what} "
                    "per request) cannot say how to share them; give visits on all but one"
                )
    for e in all_edges:
        if e.free and e.index is not None and (e.src, e.index) not in fitted:
            warnings.append(
                f"nodes.{e.src}.calls.{e.index}: no visits given and no counts for {e.to}; assumed 1.0"
            )
    return fitted


def _edge_visits(data: dict[str, dict], e: Edge) -> float:
    if e.index is None:
        return 1.0 - data[e.src]["hit_ratio"]
    return float(data[e.src]["calls"][e.index]["visits"])


def _flow_order(entry: str, all_edges: list[Edge]) -> list[str]:
    seen, order, queue = {entry}, [], deque([entry])
    while queue:
        here = queue.popleft()
        order.append(here)
        for e in all_edges:
            if e.src == here and e.to not in seen:
                seen.add(e.to)
                queue.append(e.to)
    return order
