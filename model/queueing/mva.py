"""Mean-value analysis: a closed network of users, each sending a request, waiting, thinking.

The users' requests circulate through queueing stations (FIFO pools of servers) and delays
(think time, network, acknowledgements). For a product-form network, exponential service at
FIFO stations, MVA is exact (Reiser and Lavenberg, 1980): by the arrival theorem a request
arriving at a station finds it as the network with one user fewer looks in equilibrium, so
the means follow from n - 1 to n, one user at a time.

- A single-server station: R(n) = D (1 + Q(n - 1)).
- A station whose service rate depends on how many requests it holds (c servers: rate
  min(j, c); a flow-equivalent server: any rates): R(n) = D sum_j j / a(j) p(j - 1 | n - 1),
  with its marginal queue-length probabilities carried along (load-dependent MVA). Exact, and
  O(N^2) per such station, so above `EXACT_USERS` a c-server station is replaced by Seidmann's
  approximation (a single server c times as fast plus a delay of D (c - 1) / c), documented in
  docs/contract.md; above `RECURSIVE_USERS` the recursion itself gives way to the Schweitzer-Bard
  fixed point.
- Non-exponential service (squared coefficient of variation scv != 1) is not product-form. The
  residual-life correction is used (Reiser 1979; Bard): a request that finds the server busy
  waits for the remainder of the service in progress, D (1 + scv) / 2 instead of D, so
  R(n) = D (1 + Q(n - 1)) + D U(n - 1) (scv - 1) / 2; at c servers the queueing part of the
  load-dependent answer is scaled by (1 + scv) / 2, as Allen-Cunneen scales M/M/c.

Plain arrays in and out: the scenario's stations are built in model.queueing.closed_network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EXACT_USERS = 5_000  # load-dependent (multi-server) stations exact up to this many users
RECURSIVE_USERS = 50_000  # above: the Schweitzer-Bard fixed point instead of the recursion


@dataclass(frozen=True)
class MvaStation:
    """A queueing station of a closed network.

    `demand_s`: seconds of service one request brings it when it holds one request (its visits
    times their mean service); `servers`: FIFO servers; `rates`: for a flow-equivalent server,
    its service rate with j = 1, 2, ... requests present relative to one (the last holds beyond);
    `scv`: the service time's squared coefficient of variation."""

    name: str
    demand_s: float
    servers: int = 1
    scv: float = 1.0
    rates: tuple[float, ...] | None = None

    def alpha(self, most: int) -> np.ndarray:
        """Relative service rate with j = 1..most requests present."""
        j = np.arange(1, most + 1, dtype=float)
        if self.rates is None:
            return np.minimum(j, self.servers)
        table = np.asarray(self.rates, dtype=float)
        return table[np.minimum(j.astype(int), len(table)) - 1]

    @property
    def load_dependent(self) -> bool:
        return self.rates is not None or self.servers > 1

    @property
    def capacity_rps(self) -> float:
        """Requests per second it completes when full (its bottleneck bound)."""
        if self.demand_s <= 0:
            return math.inf
        top = max(self.rates) if self.rates is not None else self.servers
        return top / self.demand_s


@dataclass(frozen=True)
class MvaCurve:
    """The closed network at 1..N users: throughput, response (think time excluded) and, per
    station, residence time (s per request), mean requests present and utilization."""

    users: np.ndarray  # 1..N (a sampled, increasing subset above RECURSIVE_USERS)
    throughput_rps: np.ndarray
    response_s: np.ndarray
    residence_s: np.ndarray  # (N, stations)
    queue: np.ndarray  # (N, stations)
    utilization: np.ndarray  # (N, stations): busy share of the station's servers
    method: str  # "exact", "seidmann" or "schweitzer"

    def at(self, n: int) -> int:
        """The row of n users (the largest count solved at or below n, for a sampled curve)."""
        return max(int(np.searchsorted(self.users, n, side="right")) - 1, 0)


def mva(stations: list[MvaStation], think_s: float, delay_s: float, users: int) -> MvaCurve:
    """The network at 1..users users; `think_s` between requests, `delay_s` of fixed delays
    (network, acknowledgements) inside each request's response."""
    if users < 1:
        raise ValueError("a closed network needs at least one user")
    if users > RECURSIVE_USERS:
        return _schweitzer_curve(stations, think_s, delay_s, users)
    seidmann = users > EXACT_USERS and any(s.load_dependent for s in stations)
    used = [_seidmann(s) for s in stations] if seidmann else stations
    extra = sum(_seidmann_delay(s) for s in stations) if seidmann else 0.0
    curve = _recursive(used, think_s, delay_s + extra, users)
    if seidmann:  # report per original station: its residence includes its Seidmann delay
        curve = _with_delays(curve, stations, "seidmann")
    return curve


def _seidmann(s: MvaStation) -> MvaStation:
    if not s.load_dependent:
        return s
    top = max(s.rates) if s.rates is not None else s.servers
    return MvaStation(s.name, s.demand_s / top, 1, s.scv)


def _seidmann_delay(s: MvaStation) -> float:
    if not s.load_dependent:
        return 0.0
    top = max(s.rates) if s.rates is not None else s.servers
    return s.demand_s * (top - 1) / top


def _with_delays(curve: MvaCurve, stations: list[MvaStation], method: str) -> MvaCurve:
    delays = np.array([_seidmann_delay(s) for s in stations])
    residence = curve.residence_s + delays[None, :]
    queue = residence * curve.throughput_rps[:, None]
    return MvaCurve(
        curve.users, curve.throughput_rps, curve.response_s, residence, queue, curve.utilization, method
    )


def _top(s: MvaStation) -> float:
    return max(s.rates) if s.rates is not None else float(s.servers)


def _recursive(stations: list[MvaStation], think_s: float, delay_s: float, users: int) -> MvaCurve:
    k = len(stations)
    demand = np.array([s.demand_s for s in stations], dtype=float)
    scv = np.array([s.scv for s in stations], dtype=float)
    top = np.array([_top(s) for s in stations], dtype=float)
    ld = [i for i, s in enumerate(stations) if s.load_dependent]
    single = np.array([not s.load_dependent for s in stations], dtype=bool)
    alphas = {i: stations[i].alpha(users) for i in ld}
    capacity = min((s.capacity_rps for s in stations), default=math.inf)
    marg = {i: np.array([1.0]) for i in ld}  # p(j | n - 1), j = 0..n - 1
    queue = np.zeros(k)
    util_prev = np.zeros(k)
    out_x = np.empty(users)
    out_r = np.empty(users)
    out_res = np.empty((users, k))
    out_q = np.empty((users, k))
    out_u = np.empty((users, k))
    for n in range(1, users + 1):
        residence = np.where(single, demand * (1.0 + queue + util_prev * (scv - 1.0) / 2.0), 0.0)
        for i in ld:
            p = marg[i]  # length n: j = 0..n-1 present when one more arrives
            j = np.arange(1, n + 1, dtype=float)
            exact = demand[i] * float(np.dot(j / alphas[i][:n], p))
            residence[i] = demand[i] + (exact - demand[i]) * (1.0 + scv[i]) / 2.0
        response = delay_s + float(residence.sum())
        x = n / (think_s + response) if think_s + response > 0 else math.inf
        x = min(x, capacity)  # the marginals' round-off near saturation must not pass the exact bound
        for i in ld:
            p = marg[i]
            new = np.empty(n + 1)
            new[1:] = demand[i] * x / alphas[i][:n] * p
            rest = float(new[1:].sum())
            if rest > 1.0:  # round-off past saturation: renormalise (p(0) is then ~0)
                new[1:] /= rest
                rest = 1.0
            new[0] = 1.0 - rest
            marg[i] = new
        queue = x * residence
        util_prev = np.minimum(x * demand / top, 1.0)
        out_x[n - 1], out_r[n - 1] = x, response
        out_res[n - 1], out_q[n - 1], out_u[n - 1] = residence, queue, util_prev
    return MvaCurve(np.arange(1, users + 1), out_x, out_r, out_res, out_q, out_u, "exact")


def schweitzer(
    stations: list[MvaStation], think_s: float, delay_s: float, users: int, tol: float = 1e-9
) -> tuple[float, np.ndarray]:
    """Throughput and residence times at `users` by the Schweitzer-Bard approximation: the queue
    an arrival finds is (n - 1) / n of the queue at n, iterated to a fixed point; multi-server
    stations by Seidmann. Within a few percent of exact MVA, and exact as N grows."""
    used = [_seidmann(s) for s in stations]
    demand = np.array([s.demand_s for s in used], dtype=float)
    scv = np.array([s.scv for s in used], dtype=float)
    extra = np.array([_seidmann_delay(s) for s in stations], dtype=float)
    queue = np.full(len(used), users / max(len(used), 1))
    x = 0.0
    for _ in range(10_000):
        seen = queue * (users - 1) / users
        util = np.minimum(x * demand, 1.0)
        residence = demand * (1.0 + seen + util * (scv - 1.0) / 2.0)
        x_new = users / (think_s + delay_s + float(residence.sum() + extra.sum()))
        new_queue = x_new * residence
        done = abs(x_new - x) <= tol * x_new and np.allclose(new_queue, queue, rtol=tol, atol=tol)
        x, queue = x_new, 0.5 * queue + 0.5 * new_queue  # damped: converges where plain iteration cycles
        if done:
            break
    return x, residence + extra


def _schweitzer_curve(stations: list[MvaStation], think_s: float, delay_s: float, users: int) -> MvaCurve:
    """Large populations: the fixed point at ~200 log-spaced user counts up to `users` (a row per
    count, not one per user: a million rows would not fit the purpose)."""
    points = np.unique(np.append(np.geomspace(1, users, 200).round().astype(int), users))
    solved = [schweitzer(stations, think_s, delay_s, int(n)) for n in points]
    x = np.array([xs for xs, _ in solved])
    res = np.array([r for _, r in solved]).reshape(len(points), len(stations))
    response = delay_s + res.sum(axis=1)
    util = np.minimum(x[:, None] * np.array([s.demand_s / _top(s) for s in stations])[None, :], 1.0)
    return MvaCurve(points, x, response, res, res * x[:, None], util.reshape(res.shape), "schweitzer")


def arrival_marginals(stations: list[MvaStation], throughput_rps: np.ndarray, users: int) -> list[np.ndarray]:
    """What a request arriving at each station finds there with `users` users in the network: by the
    arrival theorem, the station's queue-length distribution with users - 1 (j = 0..users - 1).

    Carried from n - 1 to n by p(j | n) = X(n) D / a(j) p(j - 1 | n - 1), with X from the curve
    (exact for product-form; for other networks the shape around MVA's means). O(users^2) per
    station: call it up to EXACT_USERS."""
    out = []
    for s in stations:
        alpha = s.alpha(max(users, 1))
        p = np.array([1.0])
        for n in range(1, users):
            new = np.empty(n + 1)
            new[1:] = throughput_rps[n - 1] * s.demand_s / alpha[:n] * p
            rest = float(new[1:].sum())
            if rest > 1.0:
                new[1:] /= rest
                rest = 1.0
            new[0] = 1.0 - rest
            p = new
        out.append(p)
    return out


def wait_shape(seen: np.ndarray, servers: float, service_s: float) -> tuple[float, float, float]:
    """(chance of waiting, mean wait when waiting in s, its squared coefficient of variation) for a
    FIFO station of `servers` servers whose arrivals find j present with probability seen[j]: with
    j >= servers it waits for j - servers + 1 completions, each exponential of mean service / servers."""
    j = np.arange(len(seen), dtype=float)
    ahead = np.maximum(j - servers + 1.0, 0.0)
    waits = seen * (ahead > 0)
    prob = float(waits.sum())
    if prob <= 1e-12:
        return 0.0, 0.0, 1.0
    step = service_s / servers
    mean = float((seen * ahead).sum()) * step / prob
    second = float((seen * (ahead + ahead**2)).sum()) * step**2 / prob  # Erlang(k): k s^2 + (k s)^2
    scv = max(second / mean**2 - 1.0, 1e-3)
    return prob, mean, scv
