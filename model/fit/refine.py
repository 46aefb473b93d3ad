"""Node values refined by the fits that need the whole graph first (after model.fit.params).

A given miss cost comes off a service_ms fitted from traffic alone; a service that ran at several
worker counts gets the USL over them (model.fit.workers) and its times put at the reference count;
nodes sharing a host without their own CPU metric get their cost per visit from the host's CPU
(model.fit.hosts). Each changes the node's values and their provenance in place.
"""

from __future__ import annotations

from model.fit.estimate import Estimate, ParamFit
from model.fit.file import FitFile
from model.fit.hosts import TIME_KEY, fit_host, visit_rate
from model.fit.series import Observations
from model.fit.workers import fit_workers


def given_miss_cost(params: ParamFit) -> None:
    """A given miss_ms is taken off a service_ms fitted from traffic alone (the mean cost, misses included)."""
    for name, values in params.data.items():
        est = params.nodes[name].values.get("service_ms")
        if "miss_ms" not in values or est is None or est.how != "fitted" or "misses of" in est.basis:
            continue
        misses = sum(
            c["visits"] * (1 - params.data[c["to"]].get("hit_ratio", 1.0))
            for c in values.get("calls", [])
            if params.data[c["to"]]["kind"] == "cache"
        )
        base = values["service_ms"] - values["miss_ms"] * misses
        if misses > 0 and base > 0:
            values["service_ms"] = float(f"{base:.4g}")
            ci = tuple(v - values["miss_ms"] * misses for v in est.ci95) if est.ci95 else None
            params.nodes[name].values["service_ms"] = Estimate(
                values["service_ms"],
                "fitted",
                est.basis + (f"; less the given miss_ms x {misses:.3g} misses per visit"),
                ci,
                est.r2,
            )


def refine_workers(fit: FitFile, obs: Observations, params: ParamFit) -> None:
    """The USL over worker counts (model.fit.workers) for a service that ran at several, into its values."""
    for name, workers in obs.workers.items():
        nf, values = params.nodes.get(name), params.data.get(name)
        if nf is None or nf.kind != "service" or name not in obs.cpu or not nf.visits or nf.demand is None:
            continue
        wf = fit_workers(
            name,
            obs.traffic_rps,
            obs.cpu[name],
            workers,
            nf.capacity_cores,
            nf.visits,
            fit.nodes[name].concurrency,
        )
        params.workers[name] = wf
        params.not_fitted.extend(f"nodes.{name}.worker_usl: {n}" for n in wf.notes if "not fitted" in n)
        if wf.sigma is None or "worker_usl" in values:
            continue
        pooled = nf.demand_ms / nf.visits if nf.demand_ms else None
        if pooled and nf.values.get("service_ms") and nf.values["service_ms"].how == "fitted":
            factor = (
                wf.counts[wf.reference] / pooled
            )  # the pooled fit averages over counts: put it at the reference count
            for key in ("service_ms", "miss_ms"):
                est = nf.values.get(key)
                if est is not None and est.how == "fitted":
                    values[key] = float(f"{values[key] * factor:.4g}")
                    ci = tuple(v * factor for v in est.ci95) if est.ci95 else None
                    nf.values[key] = Estimate(
                        values[key], "fitted", est.basis + f"; at {wf.reference} workers", ci, est.r2
                    )
        usl = {"sigma": round(wf.sigma, 5), "kappa": float(f"{wf.kappa:.4g}"), "workers": wf.reference}
        values["worker_usl"] = usl
        nf.values["worker_usl"] = Estimate(
            usl, "fitted", wf.summary().removeprefix("fitted: "), wf.sigma_ci95
        )
        if "concurrency" not in values:
            values["concurrency"] = wf.reference
            nf.values["concurrency"] = Estimate(
                wf.reference,
                "fitted",
                "the worker count at which service_ms was measured "
                "(the count it ran most periods at, or given)",
            )


def refine_hosts(fit: FitFile, obs: Observations, params: ParamFit) -> None:
    """Demands of the nodes on a shared host from the host's CPU (model.fit.hosts), for nodes without a CPU metric."""
    for host, spec in (fit.hosts or {}).items():
        if host not in obs.host_cpu:
            continue
        placed = [n for n, node in fit.nodes.items() if node.host == host]
        known = {n: obs.cpu[n] * params.nodes[n].capacity_cores / spec.cpus for n in placed if n in obs.cpu}
        rates = {}
        for n in placed:
            if n in obs.cpu or fit.nodes[n].kind == "kafka":
                continue
            into = [
                obs.rates[f"nodes.{c}.misses"]
                for c, node in fit.nodes.items()
                if node.kind == "cache" and node.miss == n and f"nodes.{c}.misses" in obs.rates
            ]
            writes = sum(
                c["visits"]
                for v in params.data.values()
                for c in v.get("calls", [])
                if c["to"] == n and c.get("op") == "write"
            )
            rates[n] = visit_rate(
                n, fit.nodes[n].kind, obs, obs.traffic_rps, params.nodes[n].visits, into, writes
            )
        hf = fit_host(host, spec.cpus, obs.host_cpu[host], rates, known)
        params.hosts[host] = hf
        params.warnings.extend(hf.notes)
        params.not_fitted.extend(
            f"hosts.{host}: {', '.join(g)} moved together, so the host's CPU cannot be split among "
            "them; assumed equal CPU per visit (their total is measured)"
            for g in hf.groups
        )
        for n, cost in hf.per_visit_ms.items():
            key = TIME_KEY[fit.nodes[n].kind]
            nf, values = params.nodes[n], params.data[n]
            if cost <= 0 or (nf.values.get(key) and nf.values[key].how == "given"):
                continue
            keys = [key] + (
                ["write_ms"]
                if key == "read_ms" and "write_ms" in values and nf.values["write_ms"].how != "given"
                else []
            )
            for k in keys:
                values[k] = float(f"{cost:.4g}")
                nf.values[k] = Estimate(
                    values[k],
                    "fitted",
                    hf.basis(n) + ("; reads and writes at one cost" if k == "write_ms" else ""),
                    hf.ci95[n],
                )
            params.not_fitted[:] = [
                t for t in params.not_fitted if not t.startswith(tuple(f"nodes.{n}.{k}:" for k in keys))
            ]
