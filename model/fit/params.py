"""Every node's unknowns, from the observations: the values a scenario file needs.

Order matters and follows what depends on what: hit ratios first (they route misses),
then visit ratios (they need the routing), then service times (a node's CPU demand per
entry request divided by how often a request visits it). Each value records how it was
obtained (fitted, given in the fit file, or assumed because the metrics cannot tell) and
from what, so the written scenario can say so next to every number.

A service whose `replicas` is a metric gets its count from the series (the one it ran at
the planning load), its demand from a regression with one slope per replica count, and a
USL fit of capacity against count (model.fit.scaling). The values and their provenance are
model.fit.estimate's; service times from the CPU demand are model.fit.times'.
"""

from __future__ import annotations

import pandas as pd

from model.fit.demand import fit_demand, fit_demand_by_count, whole_counts
from model.fit.estimate import Estimate, NodeFit, ParamFit, assume, set_fitted
from model.fit.file import FitFile
from model.fit.graph import fit_visits, given_values, hit_ratios, node_visits
from model.fit.scaling import ScalingFit, fit_scaling
from model.fit.errors import FitError
from model.fit.series import MIN_POINTS, Observations
from model.fit.times import fit_times
from model.queueing.topology import cores, default_cpus

AT_PLANNING_LOAD = (
    0.9  # periods with traffic at this share of the planning rate or more say how many replicas it needs
)


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
        set_fitted(nodes[name], data[name], "hit_ratio", r.value, r, warnings, digits=4)
    for name, node in fit.nodes.items():
        if node.kind == "cache" and "hit_ratio" not in data[name]:
            assume(nodes[name], data[name], "hit_ratio", "no hits and misses metrics", not_fitted, warnings)

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
        fit_times(fit, name, nf, data[name], visits[name], obs, warnings, not_fitted)
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
