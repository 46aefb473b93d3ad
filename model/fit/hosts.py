"""CPU of a shared host split into the demands of the nodes placed on it.

When several nodes run on one machine (a web process, its Redis and its PostgreSQL on one
box, or sidecars in one pod) and only the machine's CPU is measured, the utilization law
still holds for the sum: U = U0 + sum_i R_i D_i / c, with R_i each node's visit rate (its own
counts where it has them, else the entry traffic times its fitted visits) and c the host's
cores. One regression of the host CPU on the nodes' rates gives each D_i when their rates do
not move in lockstep (a hit ratio that changes moves the database's rate against the web's).
Rates that do move together form a group whose total cost is measured but whose split is
not: it is shared per visit equally, and the report says so. Nodes with a CPU metric of their
own keep the demand fitted from it; their CPU is taken off the host's first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from model.fit.demand import with_background

TOGETHER = 0.97  # rates this correlated cannot be told apart
MIN_POINTS = 12
TIME_KEY = {"service": "service_ms", "cache": "hit_ms", "database": "read_ms"}


@dataclass
class HostFit:
    host: str
    cpus: float
    nodes: list[str]
    per_visit_ms: dict[str, float] = field(default_factory=dict)
    ci95: dict[str, tuple[float, float]] = field(default_factory=dict)
    background: float | None = None
    r2: float | None = None
    points: int = 0
    groups: list[list[str]] = field(default_factory=list)  # nodes whose split was assumed (equal per visit)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "cpus": self.cpus,
            "nodes": self.nodes,
            "per_visit_ms": {k: round(v, 5) for k, v in self.per_visit_ms.items()},
            "ci95": {k: [round(a, 5), round(b, 5)] for k, (a, b) in self.ci95.items()},
            "background_cpu_pct": None if self.background is None else round(100 * self.background, 3),
            "r2": None if self.r2 is None else round(self.r2, 4),
            "points": self.points,
            "split_assumed_equal": self.groups,
            "notes": list(self.notes),
        }

    def basis(self, node: str) -> str:
        text = (
            f"regression of hosts.{self.host}.cpu ({self.cpus:g} cores) on the rates of {', '.join(self.nodes)}, "
            f"{self.points} periods, R^2 {self.r2:.3f}"
        )
        group = next((g for g in self.groups if node in g), None)
        if group:
            text += f"; the split among {', '.join(group)} is assumed equal per visit (their rates moved together)"
        return text


def visit_rate(
    name: str,
    kind: str,
    obs,
    traffic: pd.Series,
    visits: float,
    misses_into: list[pd.Series],
    write_visits: float,
) -> pd.Series:
    """A node's visits per second per period: its own counts where it has them, else traffic times its visits."""
    rates = {k.rsplit(".", 1)[1]: v for k, v in obs.rates.items() if k.startswith(f"nodes.{name}.")}
    if kind == "service" and "requests" in rates:
        return rates["requests"]
    if kind == "cache" and "hits" in rates and "misses" in rates:
        return rates["hits"] + rates["misses"]
    if kind == "database":
        reads = rates.get("reads")
        if reads is None and misses_into:
            reads = sum(misses_into[1:], misses_into[0])
        writes = rates.get("writes", traffic * write_visits)
        if reads is not None:
            return reads + writes
    return traffic * visits


def fit_host(
    host: str, cpus: float, busy: pd.Series, rates: dict[str, pd.Series], known: dict[str, pd.Series]
) -> HostFit:
    """Each node's CPU-ms per visit from the host's busy fraction; `known` is CPU (fraction of the host) of nodes measured apart."""
    out = HostFit(host, cpus, list(rates))
    for series in known.values():
        busy = busy - series
    frame = pd.concat([busy.rename("y")] + [r.rename(n) for n, r in rates.items()], axis=1).dropna()
    out.points = len(frame)
    if len(frame) < MIN_POINTS or not rates:
        out.notes.append(
            f"hosts.{host}: {len(frame)} periods with the host's CPU and every node's rate; the split needs {MIN_POINTS}"
        )
        return out
    groups = _groups(frame[list(rates)])
    columns = [frame[g].sum(axis=1).to_numpy() for g in groups]
    fit = with_background(np.column_stack([np.ones(len(frame))] + columns), frame["y"].to_numpy())
    out.background, out.r2 = float(fit.coef[0]), fit.r2
    for i, group in enumerate(groups, start=1):
        cost = 1000 * cpus * float(fit.coef[i])
        lo, hi = (1000 * cpus * v for v in fit.ci95(i))
        if len(group) > 1:
            out.groups.append(group)
        for node in group:
            out.per_visit_ms[node], out.ci95[node] = cost, (lo, hi)
        if cost <= 0:
            out.notes.append(
                f"hosts.{host}: {', '.join(group)} show no CPU of their own on the host (95% CI {lo:.3g} to {hi:.3g} ms per visit)"
            )
    return out


def _groups(rates: pd.DataFrame) -> list[list[str]]:
    """Nodes whose rates move together (correlation above TOGETHER), in the order given."""
    names = list(rates.columns)
    corr = rates.corr().fillna(1.0).to_numpy()
    groups: list[list[str]] = []
    for i, name in enumerate(names):
        for g in groups:
            if abs(corr[i, names.index(g[0])]) > TOGETHER:
                g.append(name)
                break
        else:
            groups.append([name])
    return groups
