"""Every node's unknowns, from the observations: the values a scenario file needs.

Order matters and follows what depends on what: hit ratios first (they route misses),
then visit ratios (they need the routing), then service times (a node's CPU demand per
entry request divided by how often a request visits it). Each value records how it was
obtained (fitted, given in the fit file, or assumed because the metrics cannot tell) and
from what, so the written scenario can say so next to every number.

A service whose `replicas` is a metric gets its count from the series (the one it ran at
the planning load), its demand from a regression with one slope per replica count, and a
USL fit of capacity against count (model.fit.scaling).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from model.fit.demand import DemandFit, fit_demand, fit_demand_by_count, fit_split, whole_counts
from model.fit.file import FitFile
from model.fit.mix import separate
from model.fit.graph import Ratio, fit_visits, given_values, hit_ratios, node_visits
from model.fit.scaling import ScalingFit, fit_scaling
from model.fit.series import MIN_POINTS, FitError, Observations
from model.queueing.topology import cores, default_cpus

# Used only when the metrics cannot tell and the fit file does not say; each one is reported.
# A fitted time outside these is a unit mix-up or a near-empty series, not a measurement:
# no request is served in under a microsecond of CPU, and none takes a day.
MIN_FITTED_MS, MAX_FITTED_MS = 1e-3, 86_400_000.0
ASSUMED = {"service_ms": 10.0, "hit_ratio": 0.8, "read_ms": 5.0, "consume_ms": 10.0}
DISAGREE = 0.2  # a given value this far (relative) from what the metrics say is reported
AT_PLANNING_LOAD = (
    0.9  # periods with traffic at this share of the planning rate or more say how many replicas it needs
)


@dataclass(frozen=True)
class Estimate:
    """One scenario value and where it came from."""

    value: Any
    how: str  # fitted | given | assumed
    basis: str = ""
    ci95: tuple[float, float] | None = None
    r2: float | None = None

    def to_json(self) -> dict:
        out: dict = {"value": _round(self.value), "how": self.how, "basis": self.basis}
        if self.ci95 is not None:
            out["ci95"] = [_round(v) for v in self.ci95]
        if self.r2 is not None:
            out["r2"] = round(self.r2, 4)
        return out


@dataclass
class NodeFit:
    name: str
    kind: str
    values: dict[str, Estimate] = field(default_factory=dict)
    demand: DemandFit | None = None
    capacity_cores: float = 1.0
    visits: float = 0.0  # per entry request, from the fitted graph
    demand_ms: float | None = None  # CPU-ms per entry request
    demand_ms_ci95: tuple[float, float] | None = None
    demand_basis: str = "traffic"  # or "reads and writes" when a database's split is fitted
    background: float | None = None  # busy fraction with no requests, from the regression used
    scaling: ScalingFit | None = None  # capacity against replica count (USL), when `replicas` is a metric

    def to_json(self) -> dict:
        out: dict = {
            "kind": self.kind,
            "visits_per_request": round(self.visits, 6),
            "values": {k: v.to_json() for k, v in self.values.items()},
        }
        if self.demand is not None:
            d = self.demand
            out["utilization_law"] = {
                "demand_ms_per_request": _round(self.demand_ms),
                "demand_ms_ci95": [_round(v) for v in self.demand_ms_ci95 or ()],
                "demand_from": self.demand_basis,
                "cores": self.capacity_cores,
                "background_cpu_pct": round(
                    100 * (self.background if self.background is not None else d.background), 3
                ),
                "background_ci95_pct": [round(100 * v, 3) for v in d.background_ci95],
                "r2": round(d.r2, 4),
                "r2_with_outliers": round(d.r2_all, 4),
                "points": d.points,
                "outlier_pct": round(d.outlier_pct, 2),
                "off_line": list(d.off_line),
                "nonlinear": d.nonlinear,
            }
            if d.at_count is not None:
                out["utilization_law"].update(
                    {"fitted_per_replica_count": d.counts, "demand_at_replicas": d.at_count}
                )
        if self.scaling is not None:
            out["scaling"] = self.scaling.to_json()
        return out


@dataclass
class ParamFit:
    nodes: dict[str, NodeFit]
    data: dict[str, dict]  # the scenario's nodes, ready for YAML
    call_estimates: dict[tuple[str, int], Estimate]
    warnings: list[str]
    not_fitted: list[str]
    latency: Any = None  # model.fit.latency.LatencyFit, once the scenario is built
    workers: dict = field(default_factory=dict)  # node -> model.fit.workers.WorkerFit
    hosts: dict = field(default_factory=dict)  # host -> model.fit.hosts.HostFit


def fit_parameters(fit: FitFile, obs: Observations, planning_rps: float | None = None) -> ParamFit:
    """Every node's values; `planning_rps` (the workload's rate) says which replica count a replicas metric gives."""
    warnings: list[str] = []
    not_fitted: list[str] = []
    data = {name: given_values(fit, name) for name in fit.nodes}
    nodes = {
        name: NodeFit(
            name,
            node.kind,
            {
                k: Estimate(v, "given", "fit file")
                for k, v in data[name].items()
                if k not in ("kind", "calls")
            },
        )
        for name, node in fit.nodes.items()
    }

    for name, r in hit_ratios(fit, obs).items():
        _set(nodes[name], data[name], "hit_ratio", r.value, r, warnings, digits=4)
    for name, node in fit.nodes.items():
        if node.kind == "cache" and "hit_ratio" not in data[name]:
            _assume(nodes[name], data[name], "hit_ratio", "no hits and misses metrics", not_fitted, warnings)

    fitted_calls = fit_visits(fit, data, obs, warnings)
    calls: dict[tuple[str, int], Estimate] = {}
    for name, node in fit.nodes.items():
        for i, call in enumerate(node.calls or []):
            r = fitted_calls.get((name, i))
            if r is not None:
                calls[(name, i)] = Estimate(round(r.value, 4), "fitted", r.basis, r.ci95)
            else:
                given = "visits" in call.model_fields_set
                calls[(name, i)] = Estimate(
                    call.visits,
                    "given" if given else "assumed",
                    "fit file" if given else "default; no counts for this call",
                )
    visits = node_visits(fit, data)

    for name, node in fit.nodes.items():
        nf = nodes[name]
        nf.visits = visits[name].visits
        busy = obs.cpu.get(name)
        count = obs.replicas.get(name)
        whole = whole_counts(count) if count is not None else None
        if whole is not None:
            _fitted_replicas(name, nf, data[name], whole, obs, planning_rps)
        nf.capacity_cores = _capacity(data[name])
        if busy is not None and node.kind != "kafka":
            if whole is not None and whole.dropna().nunique() > 1:
                # The fleet changed size: one capacity per replica count, the demand at the scenario's count.
                shared = len(pd.concat([obs.traffic_rps, busy, whole], axis=1).dropna())
                if shared < MIN_POINTS:
                    raise FitError(
                        f"nodes.{name}.cpu and nodes.{name}.replicas share {shared} period(s) with traffic and "
                        f"a whole replica count; the fit needs at least {MIN_POINTS}: are the two series from "
                        "different windows or resources?"
                    )
                demand = fit_demand_by_count(
                    obs.traffic_rps, busy, whole, data[name]["replicas"], obs.period_s, MIN_POINTS
                )
                nf.capacity_cores = _capacity({**data[name], "replicas": demand.at_count})
            else:
                demand = fit_demand(obs.traffic_rps, busy, obs.period_s)
            nf.demand = demand
            nf.background = demand.background
            nf.demand_ms = 1000 * demand.slope * nf.capacity_cores
            nf.demand_ms_ci95 = (
                1000 * demand.slope_ci95[0] * nf.capacity_cores,
                1000 * demand.slope_ci95[1] * nf.capacity_cores,
            )
            warnings.extend(demand.warnings(f"nodes.{name}.cpu"))
            if demand.r2 < 0.5:
                warnings.append(
                    f"nodes.{name}.cpu: CPU follows traffic poorly (R^2 {demand.r2:.2f}); the service time is "
                    "an average at best: background work, another tenant, or a CPU metric of another resource"
                )
            if demand.slope_ci95[0] <= 0:
                not_fitted.append(
                    f"nodes.{name}.cpu: CPU does not rise measurably with traffic (slope 95% CI "
                    f"{100 * demand.slope_ci95[0]:.3g} to {100 * demand.slope_ci95[1]:.3g} points per req/s); "
                    "no service time can be fitted from it"
                )
        elif busy is not None:
            warnings.append(
                f"nodes.{name}.cpu: broker CPU is reported but not used; the scenario models its consumers"
            )
        _times(fit, name, nf, data[name], visits[name], obs, warnings, not_fitted)
        if nf.demand_basis == "reads and writes":  # the split explains the CPU the traffic line did not
            warnings[:] = [
                w
                for w in warnings
                if not w.startswith(
                    (f"nodes.{name}.cpu: CPU follows traffic poorly", f"nodes.{name}.cpu: not linear")
                )
            ]
        if count is not None:
            nf.scaling = _scaling(name, node, nf, data[name], busy, count, whole, obs)
            if nf.scaling.warning:
                warnings.append(nf.scaling.warning)
    return ParamFit(nodes, data, calls, warnings, not_fitted)


def _fitted_replicas(
    name: str, nf: NodeFit, values: dict, whole, obs: Observations, planning_rps: float | None
) -> None:
    """The scenario's replicas from a replicas metric: the count that ran at the planning load.

    The scenario is solved at the planning rate, so the count it holds is the one the node ran
    when traffic was that high (for an autoscaled node, what the autoscaler chose at peak).
    """
    pairs = pd.concat([obs.traffic_rps.rename("x"), whole.rename("n")], axis=1).dropna()
    if not len(
        pairs
    ):  # every period mid-scaling (a coarse period_s): the nearest whole counts still say the size
        pairs = pd.concat(
            [obs.traffic_rps.rename("x"), obs.replicas[name].round().clip(lower=1).rename("n")], axis=1
        ).dropna()
    if not len(pairs):
        raise FitError(
            f"nodes.{name}.replicas: no period where traffic was measured and replicas ran; check the "
            "metric (the running task or pod count, stat Average)"
        )
    rate = planning_rps if planning_rps and planning_rps > 0 else float(pairs["x"].quantile(0.9))
    near = pairs[pairs["x"] >= AT_PLANNING_LOAD * rate]
    if not len(near):
        near = pairs[pairs["x"] >= pairs["x"].quantile(0.9)]
    n = int(round(float(near["n"].median())))
    sizes = pairs["n"].value_counts()
    if sizes.get(n, 0) < MIN_POINTS and (sizes >= MIN_POINTS).any():
        n = int(min((int(k) for k in sizes.index if sizes[k] >= MIN_POINTS), key=lambda k: (abs(k - n), -k)))
    values["replicas"] = n
    lo, hi = int(pairs["n"].min()), int(pairs["n"].max())
    span = f"{lo} throughout" if lo == hi else f"{lo} to {hi} over the window"
    nf.values["replicas"] = Estimate(
        n,
        "fitted",
        f"nodes.{name}.replicas: the count running at the planning load (median of "
        f"{len(near)} periods with traffic at {100 * AT_PLANNING_LOAD:.0f} % of it or more); {span}",
    )


def _scaling(name: str, node, nf: NodeFit, values: dict, busy, count, whole, obs: Observations) -> ScalingFit:
    if busy is None or nf.background is None:
        out = ScalingFit(name, f"nodes.{name}.replicas")
        out.notes.append(
            f"not fitted: the node has no cpu metric; capacity at each replica count comes from its CPU "
            f"(add nodes.{name}.cpu)"
        )
        return out
    if nf.visits <= 0:
        out = ScalingFit(name, f"nodes.{name}.replicas", nf.background)
        out.notes.append("not fitted: no requests reach the node in the fitted graph")
        return out
    if node.autoscale is not None:
        reference, what = node.autoscale.max, "the HPA max"
    else:
        reference, what = int(values["replicas"]), "the replicas at the planning load"
    return fit_scaling(name, obs.traffic_rps * nf.visits, busy, count, whole, nf.background, reference, what)


def _capacity(values: dict) -> float:
    """Cores the node's CPU metric is a fraction of (replicas x cores, CPU limits as fractions)."""
    kind = values["kind"]
    cpus = values.get("cpus")
    if cpus is None:
        cpus = 1.0 if kind == "cache" else default_cpus(_instance(values.get("instance")))
    c = cores(float(cpus))
    per = c.servers * c.speed
    count = {
        "service": values.get("replicas", 1),
        "cache": values.get("nodes", 1),
        "database": 1 + values.get("read_replicas", 0),
    }.get(kind, 1)
    return float(count * per)


def _instance(raw: dict | None):
    from model.scenario.schema import Instance

    return Instance(**raw) if raw else None


def _times(
    fit: FitFile,
    name: str,
    nf: NodeFit,
    values: dict,
    visits,
    obs: Observations,
    warnings: list[str],
    not_fitted: list[str],
) -> None:
    kind, d = nf.kind, nf.demand
    usable = d is not None and d.slope_ci95[0] > 0 and nf.visits > 0 and d.points >= MIN_POINTS
    basis = ""
    if usable:
        basis = (
            f"utilization law: nodes.{name}.cpu on traffic, {d.points} periods, R^2 {d.r2:.3f}, "
            f"{nf.capacity_cores:g} cores, {nf.visits:.3g} visits/request, background {100 * d.background:.1f} % CPU"
        )
        if d.at_count is not None:
            basis += f"; one slope per replica count ({d.counts} counts), this one at {d.at_count} replicas"
    scale = 1.0 / nf.visits if nf.visits > 0 else 0.0
    ci = tuple(v * scale for v in nf.demand_ms_ci95) if usable else None
    if kind == "service":
        if (
            usable
            and "service_ms" not in values
            and _miss_cost(fit, name, nf, values, obs, warnings, not_fitted)
        ):
            pass
        elif usable:
            _set(
                nf,
                values,
                "service_ms",
                nf.demand_ms * scale,
                Ratio(nf.demand_ms * scale, ci, d.points, basis),
                warnings,
                r2=d.r2,
            )
        elif "service_ms" not in values:
            _assume(
                nf,
                values,
                "service_ms",
                "no CPU metric" if d is None else "its CPU does not measure a demand",
                not_fitted,
                warnings,
            )
    elif kind == "cache":
        if usable:
            _set(
                nf,
                values,
                "hit_ms",
                nf.demand_ms * scale,
                Ratio(nf.demand_ms * scale, ci, d.points, basis),
                warnings,
                r2=d.r2,
            )
        elif "hit_ms" not in values:
            nf.values["hit_ms"] = Estimate(1.0, "assumed", "scenario default; no usable CPU metric")
    elif kind == "database":
        _database(name, nf, values, visits, obs, usable, basis, warnings, not_fitted, fit)
    elif kind == "kafka" and "consume_ms" not in values:
        _assume(nf, values, "consume_ms", "broker metrics do not show consumer time", not_fitted, warnings)


def _miss_cost(
    fit: FitFile,
    name: str,
    nf: NodeFit,
    values: dict,
    obs: Observations,
    warnings: list[str],
    not_fitted: list[str],
) -> bool:
    """service_ms and miss_ms apart: the service's CPU on traffic and on the misses of the caches it calls.

    True when both were fitted; else the reason goes to the notes and service_ms keeps the mean
    cost at the observed hit ratio (a hit-ratio what-if then leaves this service's CPU unchanged).
    """
    caches = [
        c.to
        for c in fit.nodes[name].calls or []
        if fit.nodes[c.to].kind == "cache" and f"nodes.{c.to}.misses" in obs.rates
    ]
    if not caches or "miss_ms" in values:
        return False
    misses = sum((obs.rates[f"nodes.{c}.misses"] for c in caches[1:]), obs.rates[f"nodes.{caches[0]}.misses"])
    got = separate(obs.traffic_rps, misses, obs.cpu[name])
    why = got if isinstance(got, str) else ""
    if not why:
        robust, points = got
        (a_lo, _), (b_lo, b_hi) = robust.ci95(1), robust.ci95(2)
        if robust.coef[1] <= 0 or a_lo <= 0 or b_lo <= 0:
            why = (
                f"the cost per miss is not measurably above 0 (95% CI {1000 * b_lo * nf.capacity_cores:.3g} to "
                f"{1000 * b_hi * nf.capacity_cores:.3g} ms)"
            )
    if why:
        not_fitted.append(
            f"nodes.{name}.miss_ms: its CPU per cache miss cannot be told apart from its CPU per request "
            f"({why}); service_ms holds the mean at the observed hit ratio, so a hit-ratio what-if leaves "
            f"{name}'s CPU unchanged. It separates when the hit ratio varies between periods or phases"
        )
        return False
    scale = 1000 * nf.capacity_cores
    what = (
        f"regression of nodes.{name}.cpu on traffic and the misses of {', '.join(caches)}, {points} periods, "
        f"R^2 {robust.r2:.3f}, {nf.capacity_cores:g} cores"
    )
    per_visit = scale / nf.visits
    service = float(robust.coef[1]) * per_visit
    _set(
        nf,
        values,
        "service_ms",
        service,
        Ratio(
            service,
            tuple(v * per_visit for v in robust.ci95(1)),
            points,
            what + "; CPU per request with every cache read a hit",
        ),
        warnings,
        r2=robust.r2,
    )
    miss = float(robust.coef[2]) * scale
    _set(
        nf,
        values,
        "miss_ms",
        miss,
        Ratio(
            miss,
            tuple(v * scale for v in robust.ci95(2)),
            points,
            what + "; CPU this service spends per cache miss",
        ),
        warnings,
        r2=robust.r2,
    )
    nf.background = float(robust.coef[0])
    return True


def _database(
    name: str,
    nf: NodeFit,
    values: dict,
    visits,
    obs: Observations,
    usable: bool,
    basis: str,
    warnings: list[str],
    not_fitted: list[str],
    fit: FitFile,
) -> None:
    """Reads and writes share the node's demand: D = r * read_ms + w * write_ms per entry request."""
    r, w = visits.reads, visits.writes
    if not usable:
        if "read_ms" not in values:
            _assume(nf, values, "read_ms", "no usable CPU metric", not_fitted, warnings)
        return
    demand = nf.demand_ms
    given_r, given_w = values.get("read_ms"), values.get("write_ms")
    ci_scale = (nf.demand_ms_ci95[0] / demand, nf.demand_ms_ci95[1] / demand) if demand else (1.0, 1.0)
    if given_r is not None and given_w is None and w > 0:
        write = (demand - r * given_r) / w
        if write > 0:
            _set(
                nf,
                values,
                "write_ms",
                write,
                Ratio(write, None, nf.demand.points, basis + ", less reads at the given read_ms"),
                warnings,
            )
        return
    if given_w is not None and given_r is None and r > 0:
        read = (demand - w * given_w) / r
        if read > 0:
            _set(
                nf,
                values,
                "read_ms",
                read,
                Ratio(read, None, nf.demand.points, basis + ", less writes at the given write_ms"),
                warnings,
            )
        else:
            _assume(
                nf, values, "read_ms", "the given write_ms already explains all the CPU", not_fitted, warnings
            )
        return
    if given_r is not None:
        if given_w is None:
            _check(nf, "read_ms", given_r, demand / max(r + w, 1e-12), warnings)
        return
    reads, writes = obs.rates.get(f"nodes.{name}.reads"), obs.rates.get(f"nodes.{name}.writes")
    split = (
        fit_split([reads, writes], obs.cpu[name])
        if reads is not None and writes is not None and w > 0
        else None
    )
    why = "no reads and writes rates to regress on"
    if split is None and w > 0:
        split, why = _mix_split(fit, name, obs, reads, writes, w)
    if split is not None:
        fit, points = split
        for k, key in ((1, "read_ms"), (2, "write_ms")):
            lo, hi = (1000 * v * nf.capacity_cores for v in fit.ci95(k))
            value = 1000 * float(fit.coef[k]) * nf.capacity_cores
            what = f"regression of nodes.{name}.cpu on reads and writes, {points} periods, R^2 {fit.r2:.3f}, {nf.capacity_cores:g} cores"
            if value <= 0:
                what += "; not measurably above 0, written as 0.01 ms"
                value = 0.01
            elif lo <= 0:
                what += "; not measurably above 0"
            _set(nf, values, key, value, Ratio(value, (lo, hi), points, what), warnings, r2=fit.r2)
        # The mix of reads and writes changes over time, so CPU is not proportional to traffic:
        # the split, not the traffic regression, is the node's demand and background.
        weights = [0.0, r, w]
        scale = 1000 * nf.capacity_cores
        nf.demand_ms = scale * float(fit.coef[1] * r + fit.coef[2] * w)
        half = (
            1.96
            * scale
            * float(sum(weights[i] * weights[j] * fit.cov[i, j] for i in (1, 2) for j in (1, 2)) ** 0.5)
        )
        nf.demand_ms_ci95 = (nf.demand_ms - half, nf.demand_ms + half)
        nf.demand_basis = "reads and writes"
        nf.background = float(fit.coef[0])
        return
    per_visit = demand / max(r + w, 1e-12)
    ci = (per_visit * ci_scale[0], per_visit * ci_scale[1])
    _set(
        nf,
        values,
        "read_ms",
        per_visit,
        Ratio(per_visit, ci, nf.demand.points, basis),
        warnings,
        r2=nf.demand.r2,
    )
    if w > 0:
        _set(
            nf,
            values,
            "write_ms",
            per_visit,
            Ratio(per_visit, ci, nf.demand.points, basis + "; assumed equal to reads"),
            warnings,
        )
        not_fitted.append(
            f"nodes.{name}: read and write costs cannot be told apart ({why}); assumed equal, "
            f"read_ms = write_ms = {per_visit:.3g} ms, which keeps the measured total. They separate when "
            "the mix varies between periods (a phase at another hit ratio or write share), or when the "
            "fit file gives one of them"
        )


def _mix_split(fit: FitFile, name: str, obs: Observations, reads, writes, w: float):
    """Reads from the misses of the caches in front of the database when it has no reads metric, writes
    from traffic when it has no writes metric: a regression on both (model.fit.mix), kept when the read
    cost comes out positive and within half its value."""
    if reads is None:
        misses = [
            obs.rates[f"nodes.{c}.misses"]
            for c, n in fit.nodes.items()
            if n.kind == "cache" and n.miss == name and f"nodes.{c}.misses" in obs.rates
        ]
        reads = sum(misses[1:], misses[0]) if misses else None
    if writes is None:
        writes = obs.traffic_rps * w
    if reads is None:
        return None, "no reads metric, and no cache with a misses metric misses to it"
    got = separate(reads, writes, obs.cpu[name])
    if isinstance(got, str):
        return None, got
    fit, points = got
    lo, hi = fit.ci95(1)
    if fit.coef[1] <= 0 or (hi - lo) / 2 > 0.5 * fit.coef[1]:
        return (
            None,
            f"the read cost is not determined (95% CI {1000 * lo:.3g} to {1000 * hi:.3g} CPU-ms per read per core)",
        )
    return (fit, points), ""


def _set(
    nf: NodeFit,
    values: dict,
    key: str,
    value: float,
    r: Ratio,
    warnings: list[str],
    digits: int = 4,
    r2: float | None = None,
) -> None:
    """Record a fitted value, unless the fit file gives it: then keep the given one and compare."""
    if key in values:
        _check(nf, key, values[key], value, warnings)
        return
    if key.endswith("_ms") and not MIN_FITTED_MS <= value <= MAX_FITTED_MS:
        raise FitError(
            f"nodes.{nf.name}.{key}: the metrics give {value:.3g} ms, outside the {MIN_FITTED_MS:g} ms "
            f"to {MAX_FITTED_MS:,.0f} ms a real system takes; check the metrics' units "
            f"(CPU as a fraction or percent, rates per second) or give {key} in the fit file"
        )
    values[key] = _sig(value, digits)
    nf.values[key] = Estimate(values[key], "fitted", r.basis, r.ci95, r2)


def _check(nf: NodeFit, key: str, given: float, measured: float, warnings: list[str]) -> None:
    if given and abs(measured - given) > DISAGREE * abs(given):
        warnings.append(
            f"nodes.{nf.name}.{key}: given {given:g}, the metrics say {measured:.3g}; the given value was kept"
        )


def _assume(
    nf: NodeFit, values: dict, key: str, why: str, not_fitted: list[str], warnings: list[str]
) -> None:
    values[key] = ASSUMED[key]
    nf.values[key] = Estimate(ASSUMED[key], "assumed", why)
    not_fitted.append(f"nodes.{nf.name}.{key}: {why}; assumed {ASSUMED[key]:g} (set it in the fit file)")


def _sig(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}")


def _round(value: Any) -> Any:
    return float(f"{value:.6g}") if isinstance(value, float) else value
