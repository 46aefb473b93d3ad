"""Service times from CPU: a node's demand per request (the utilization law) divided among its visits.

A service's demand is its service_ms (or, when the caches it calls miss more in some periods
than others, service_ms and the CPU it spends per miss apart); a cache's is hit_ms; a database's
is shared by reads and writes, D = r * read_ms + w * write_ms per entry request, separated when
the data can separate them and otherwise assumed equal, with the reason in the report.
"""

from __future__ import annotations

from model.fit.demand import fit_split
from model.fit.estimate import Estimate, NodeFit, assume, check_given, set_fitted
from model.fit.file import FitFile
from model.fit.graph import Ratio
from model.fit.mix import separate
from model.fit.series import MIN_POINTS, Observations


def fit_times(
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
            set_fitted(
                nf,
                values,
                "service_ms",
                nf.demand_ms * scale,
                Ratio(nf.demand_ms * scale, ci, d.points, basis),
                warnings,
                r2=d.r2,
            )
        elif "service_ms" not in values:
            assume(
                nf,
                values,
                "service_ms",
                "no CPU metric" if d is None else "its CPU does not measure a demand",
                not_fitted,
                warnings,
            )
    elif kind == "cache":
        if usable:
            set_fitted(
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
        assume(nf, values, "consume_ms", "broker metrics do not show consumer time", not_fitted, warnings)


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
    set_fitted(
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
    set_fitted(
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
            assume(nf, values, "read_ms", "no usable CPU metric", not_fitted, warnings)
        return
    demand = nf.demand_ms
    given_r, given_w = values.get("read_ms"), values.get("write_ms")
    ci_scale = (nf.demand_ms_ci95[0] / demand, nf.demand_ms_ci95[1] / demand) if demand else (1.0, 1.0)
    if given_r is not None and given_w is None and w > 0:
        write = (demand - r * given_r) / w
        if write > 0:
            set_fitted(
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
            set_fitted(
                nf,
                values,
                "read_ms",
                read,
                Ratio(read, None, nf.demand.points, basis + ", less writes at the given write_ms"),
                warnings,
            )
        else:
            assume(
                nf, values, "read_ms", "the given write_ms already explains all the CPU", not_fitted, warnings
            )
        return
    if given_r is not None:
        if given_w is None:
            check_given(nf, "read_ms", given_r, demand / max(r + w, 1e-12), warnings)
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
            set_fitted(nf, values, key, value, Ratio(value, (lo, hi), points, what), warnings, r2=fit.r2)
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
    set_fitted(
        nf,
        values,
        "read_ms",
        per_visit,
        Ratio(per_visit, ci, nf.demand.points, basis),
        warnings,
        r2=nf.demand.r2,
    )
    if w > 0:
        set_fitted(
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
