"""From observed metrics to a calibrated scenario (`python cli.py fit`), with the fit's error shown.

The steps, each in its own module: fetch the fit file's series (connectors), put them on
one grid and refuse what is unusable (fit_series), estimate hit ratios, visit ratios and
service times (fit_graph, fit_params, fit_demand), the load (fit_load), build the scenario
and check it against what was observed and against a held-out week (fit_validate), then
write it with a comment on every value (fit_yaml). When a service's `replicas` is a metric
(its running count over time), fit_scaling fits the USL (fit_usl) to its capacity at each
count and the report and the scenario's comments say where adding replicas stops paying.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from model.fit.file import FitFile, load_fit_file_as
from model.fit.latency import fit_latency
from model.fit.workers import fit_workers
from model.fit.hosts import TIME_KEY, fit_host, visit_rate
from model.fit.traffic import LoadFit, fit_load, fit_load_test
from model.fit.params import Estimate, ParamFit, fit_parameters
from model.fit.result import FitResult
from model.fit.series import FitError, Observations, observations
from model.fit.validate import backtest, validate
from model.fit.render import comment_for
from model.scenario.reader import ScenarioError, load_scenario, scenario_from_data
from model.scenario.schema import Scenario

__all__ = ["FitError", "FitResult", "fit_scenario", "fit_to_file"]

DEFAULT_REGION = {"aws": "us-east-1", "gcp": "us-central1"}
MAX_BACKGROUND = (
    0.95  # a fitted intercept above this leaves requests no CPU: clamp and let validation show it
)
_UNITS = {
    "miss_ms": "ms",
    "network_ms": "ms",
    "service_ms": "ms",
    "hit_ms": "ms",
    "read_ms": "ms",
    "write_ms": "ms",
    "consume_ms": "ms",
}


def fit_scenario(
    fit_file_or_path: FitFile | str | Path,
    frame: pd.DataFrame | None = None,
    source: str | None = None,
    endpoint: str | None = None,
    refresh: bool = False,
    *,
    peak_percentile: float = 90.0,
    method: str = "analytic",
) -> FitResult:
    """Fit a scenario to the fit file's metrics (fetched unless `frame`, a tidy frame, is given)."""
    if not 0 < peak_percentile <= 100:
        raise FitError(f"the peak percentile must be in (0, 100] (got {peak_percentile:g})")
    fit, name = _fit_file(fit_file_or_path, source)
    source_name = str(getattr(fit, "source", "demo"))
    summary = None
    if frame is None:
        from model.fit.fetch import fetch_fit_series  # pyarrow (the cache): only when fetching

        frame, report = fetch_fit_series(fit, refresh=refresh, endpoint=endpoint)
        summary = report.summary()
        fetch_warnings = list(report.warnings)
    else:
        fetch_warnings = []
    obs = observations(fit, frame, source_name)
    warnings = fetch_warnings + list(obs.warnings)
    scenario, document, params, load, pricing_note = _build(fit, name, obs, peak_percentile)
    if pricing_note:
        warnings.append(pricing_note)
    validation = validate(scenario, _backgrounds(params), _r2(params), obs, method, _hints(params))

    def refit(part: Observations) -> tuple[Scenario, dict, dict, dict]:
        s, _, p, _, _ = _build(fit, name, part, peak_percentile)
        return s, _backgrounds(p), _r2(p), _hints(p)

    held_out = backtest(obs, refit, method)
    warnings += params.warnings
    not_fitted = list(params.not_fitted) + [n for n in load.notes if "not fitted" in n]
    comments, header = _comments(fit, name, source_name, obs, params, load)
    return FitResult(
        fit_file=name,
        source=source_name,
        start=f"{obs.start:%Y-%m-%d %H:%M}",
        end=f"{obs.end:%Y-%m-%d %H:%M} UTC",
        period_s=obs.period_s,
        scenario=scenario,
        document=document,
        comments=comments,
        header=header,
        params=params,
        load=load,
        validation=validation,
        backtest=held_out,
        warnings=warnings,
        not_fitted=not_fitted,
        fetch_summary=summary,
    )


def fit_to_file(
    config_path: FitFile | str | Path,
    out_path: str | Path,
    source: str | None = None,
    endpoint: str | None = None,
    refresh: bool = False,
    **options,
) -> FitResult:
    """Fit, then write the scenario, after loading it back with the loader `simulate` uses."""
    result = fit_scenario(config_path, source=source, endpoint=endpoint, refresh=refresh, **options)
    out = Path(out_path)
    temp = out.with_name(f".{out.name}.fitting.yaml")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(result.yaml_text(), encoding="utf-8")
        load_scenario(temp)
        os.replace(temp, out)
    except ScenarioError as exc:
        raise FitError(
            f"the fitted scenario does not load ({exc}); please report this with the fit file"
        ) from None
    except OSError as exc:
        raise FitError(
            f"cannot write {out} ({exc.strerror or exc}); choose a writable path for --out"
        ) from None
    finally:
        if temp.exists():
            temp.unlink()
    result.out_path = str(out)
    return result


# ---------------------------------------------------------------- steps


def _fit_file(fit_file_or_path: FitFile | str | Path, source: str | None) -> tuple[FitFile, str]:
    """The fit file (with `source:` replaced by --source) and the name its report goes by."""
    name = "fit file" if isinstance(fit_file_or_path, FitFile) else str(fit_file_or_path)
    return load_fit_file_as(fit_file_or_path, source), name


def _shape_and_growth(load: LoadFit, growth_pct: float) -> dict:
    """Extension keys (issue 12): the daily and weekly shape as fractions of their busiest hour and
    day (the bill's month shape), and the growth's 90% interval, when the fit measured them."""
    out: dict = {}
    daily = load.daily_shape
    if daily and all(math.isfinite(v) for v in daily) and max(daily) > 0:
        out["daily_profile"] = [round(v / max(daily), 4) for v in daily]
    weekly = load.weekly_shape
    if weekly and all(math.isfinite(v) for v in weekly) and max(weekly) > 0:
        out["weekly_profile"] = [round(v / max(weekly), 4) for v in weekly]
    if load.mode != "load_test" and load.growth_pct_per_month is not None and load.growth_ci90:
        low, high = (round(max(v, -99.0), 3) for v in load.growth_ci90)
        out["growth_fit"] = {
            "pct_per_month": growth_pct,
            "low_pct": low,
            "high_pct": high,
            "days": load.growth_days,
        }
    return out


def _build(
    fit: FitFile, name: str, obs: Observations, peak_percentile: float
) -> tuple[Scenario, dict, ParamFit, LoadFit, str | None]:
    load = (
        fit_load_test(obs.traffic_rps, obs.phases)
        if obs.load_test
        else fit_load(obs.traffic_rps, obs.period_s, peak_percentile)
    )
    rate = load.peak_rps if load.peak_rps > 0 else load.max_rps
    params = fit_parameters(fit, obs, planning_rps=rate)
    _given_miss_cost(params)
    _workers(fit, obs, params)
    _hosts(fit, obs, params)
    for node, nf in params.nodes.items():
        # The regression's intercept: CPU busy with no requests. A given value is kept.
        values = params.data[node]
        if nf.background is not None and values["kind"] != "kafka" and "background_cpu_pct" not in values:
            values["background_cpu_pct"] = round(100 * min(max(nf.background, 0.0), MAX_BACKGROUND), 2)
    workload = {
        "rate_rps": float(f"{rate:.5g}"),
        "arrivals": "poisson",
        "growth_pct_per_month": round(max(load.growth_pct_per_month or 0.0, -99.0), 3),
        "horizon_months": 12,
        **_shape_and_growth(load, round(max(load.growth_pct_per_month or 0.0, -99.0), 3)),
    }
    providers = [
        n["instance"]["provider"] for n in params.data.values() if n.get("instance", {}).get("provider")
    ]
    provider = providers[0] if providers else ("gcp" if getattr(fit, "source", "") == "gcp" else "aws")
    region = fit.region if provider == "aws" and fit.region else DEFAULT_REGION[provider]
    over = (
        f"a load test on {obs.start:%Y-%m-%d} ({len(obs.phases)} phases)"
        if obs.load_test
        else f"{obs.start:%Y-%m-%d} to {obs.end:%Y-%m-%d}"
    )
    document = {
        "version": 1,
        "name": f"{Path(name).stem} (fitted)",
        "description": f"Fitted by `headroom fit` from {name} over {over}.",
        "workload": workload,
        "entry": fit.entry,
        "nodes": {n: _ordered(v) for n, v in params.data.items()},
        "pricing": {"provider": provider, "region": region, "commitment": "on_demand"},
    }
    if fit.hosts:
        document["hosts"] = {
            h: {
                "cpus": int(v.cpus) if float(v.cpus).is_integer() else v.cpus,
                **({"instance": v.instance.model_dump(exclude_none=True)} if v.instance else {}),
            }
            for h, v in fit.hosts.items()
        }
    note = None
    try:
        scenario = scenario_from_data(document, "fitted scenario")
    except ScenarioError as exc:
        if exc.path != "pricing.region":
            raise FitError(f"the fitted scenario is invalid: {exc}") from None
        document["pricing"]["region"] = DEFAULT_REGION[provider]
        note = (
            f"pricing: region {region!r} has no prices in the catalog; priced at {DEFAULT_REGION[provider]}"
        )
        scenario = scenario_from_data(document, "fitted scenario")
    scenario = _latency(fit, obs, params, document, scenario)
    return scenario, document, params, load, note


def _given_miss_cost(params: ParamFit) -> None:
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


def _workers(fit: FitFile, obs: Observations, params: ParamFit) -> None:
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


def _hosts(fit: FitFile, obs: Observations, params: ParamFit) -> None:
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


def _latency(
    fit: FitFile, obs: Observations, params: ParamFit, document: dict, scenario: Scenario
) -> Scenario:
    """service_cv and workload.network_ms from the latency at low load (model.fit.latency), into the scenario."""
    given = {n for n, node in fit.nodes.items() if node.service_cv is not None}
    lf = fit_latency(scenario, obs, given)
    params.latency = lf
    if lf.network_ms is None:
        return scenario
    document["workload"]["network_ms"] = round(lf.network_ms, 3)
    if lf.service_cv is not None:
        for n in lf.cv_nodes:
            document["nodes"][n] = _ordered({**document["nodes"][n], "service_cv": round(lf.service_cv, 3)})
            params.nodes[n].values["service_cv"] = Estimate(
                round(lf.service_cv, 3), "fitted", lf.basis(), lf.cv_ci95
            )
    return scenario_from_data(document, "fitted scenario")


def _ordered(values: dict) -> dict:
    """Scenario keys in the contract's order: kind, sizes, times, then instance and calls."""
    from model.scenario.schema import NODE_TYPES

    order = ["kind", *[k for k in NODE_TYPES[values["kind"]].model_fields if k != "kind"]]
    out = {k: values[k] for k in order if k in values and k not in ("instance", "autoscale", "calls")}
    for k in ("instance", "autoscale", "calls"):
        if values.get(k):
            out[k] = values[k]
    return out


def _backgrounds(params: ParamFit) -> dict[str, float]:
    return {n: nf.background for n, nf in params.nodes.items() if nf.background is not None}


def _hints(params: ParamFit) -> dict[str, str]:
    """Causes the fit already knows: a database whose read/write mix per request moves over time, a
    service whose CPU per request changes with its replica count."""
    hints = {
        n: "the mix of reads and writes per request changes over time, and the scenario holds only its mean "
        "(visits per request); its CPU follows the mix, not the traffic"
        for n, nf in params.nodes.items()
        if nf.demand_basis == "reads and writes"
    }
    for n, nf in params.nodes.items():
        if (
            nf.scaling is not None
            and nf.scaling.usl is not None
            and nf.demand is not None
            and nf.demand.at_count
        ):
            hints[n] = (
                f"CPU per request changes with the replica count (the USL's sigma {nf.scaling.usl.sigma:.3g}, kappa "
                f"{nf.scaling.usl.kappa:.3g}), and the scenario holds its cost at {nf.demand.at_count} replicas"
            )
    return hints


def _r2(params: ParamFit) -> dict[str, float]:
    return {n: nf.demand.r2 for n, nf in params.nodes.items() if nf.demand is not None}


def _comments(
    fit: FitFile, name: str, source: str, obs: Observations, params: ParamFit, load: LoadFit
) -> tuple[dict[tuple, str], list[str]]:
    comments: dict[tuple, str] = {}
    days = (obs.end - obs.start).total_seconds() / 86400
    if obs.load_test:
        comments[("workload", "rate_rps")] = (
            f"fitted: the highest steady phase's mean rate ({len(obs.phases)} phases; "
            f"highest period {load.max_rps:.4g} req/s)"
        )
    else:
        comments[("workload", "rate_rps")] = (
            f"fitted: {load.peak_percentile:g}th percentile of each day's busiest hour of traffic "
            f"({load.busy_hours} days; mean {load.mean_rps:.4g}, highest period {load.max_rps:.4g} req/s)"
        )
    if obs.load_test:
        comments[("workload", "growth_pct_per_month")] = (
            "assumed: a load test says nothing about growth; set it from your history"
        )
    elif load.growth_pct_per_month is not None and load.growth_ci95:
        comments[("workload", "growth_pct_per_month")] = (
            f"fitted: trend of log hourly traffic (daily and weekly cycles apart) over {load.growth_days} days; "
            f"95% CI {load.growth_ci95[0]:.3g} to {load.growth_ci95[1]:.3g}"
        )
    else:
        comments[("workload", "growth_pct_per_month")] = (
            "assumed: too few whole days of traffic to fit a trend"
        )
    if load.growth_ci90 and not obs.load_test:
        comments[("workload", "growth_fit")] = (
            "fitted: the growth above and its 90% interval (the forecast's band)"
        )
    comments[("workload", "daily_profile")] = "fitted: mean traffic by UTC hour over the busiest hour's"
    comments[("workload", "weekly_profile")] = (
        "fitted: mean traffic by weekday (Monday first) over the busiest day's"
    )
    comments[("workload", "arrivals")] = "assumed: Poisson arrivals at the planning rate"
    lf = params.latency
    if lf is not None and lf.network_ms is not None:
        ci = f"; 95% CI {lf.network_ci95[0]:.3g} to {lf.network_ci95[1]:.3g} ms" if lf.network_ci95 else ""
        comments[("workload", "network_ms")] = (
            f"fitted: fixed delay outside the stations (observed less modelled): {lf.basis()}{ci}"
        )
    comments[("pricing",)] = "from the nodes' instances and the fit file's region"
    for node, nf in params.nodes.items():
        for key, est in nf.values.items():
            comments[("nodes", node, key)] = comment_for(est, _UNITS.get(key, ""))
    for (src, i), est in params.call_estimates.items():
        comments[("nodes", src, "calls", i)] = comment_for(est)
    for node, nf in params.nodes.items():
        if (
            nf.background is not None
            and nf.demand is not None
            and ("nodes", node, "background_cpu_pct") not in comments
        ):
            low, high = (100 * v for v in nf.demand.background_ci95)
            comments[("nodes", node, "background_cpu_pct")] = (
                f"fitted: CPU with no requests (the utilization regression's intercept), 95% CI {low:.3g} to {high:.3g} %"
            )
        if nf.scaling is not None:
            comments[("nodes", node)] = (
                nf.scaling.summary()
            )  # on the node's own line: a report, not a scenario value
    span = (
        f"a load test of {len(obs.phases)} steady phases at {obs.period_s} s"
        if obs.load_test
        else f"{days:.1f} days at {obs.period_s} s"
    )
    header = [
        f"Fitted by Headroom from {name} (source: {source}), {obs.start:%Y-%m-%d %H:%M} to {obs.end:%Y-%m-%d %H:%M} UTC,",
        f"{span}. Each value says how it was obtained: fitted (from the metrics, with",
        "its 95% confidence interval), given (in the fit file) or assumed (the metrics cannot tell: check it).",
    ]
    return comments, header
