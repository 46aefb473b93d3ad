"""From observed metrics to a calibrated scenario (`python cli.py fit`), with the fit's error shown.

The steps, each in its own module: fetch the fit file's series (fetch, connectors), put them on
one grid in the fit's units and refuse what is unusable (series, units), estimate hit ratios,
visit ratios and service times (graph, params, times, demand; then refine: a given miss cost,
worker counts, shared hosts), the load (traffic), build the scenario and check it against what
was observed and against a held-out week (validate; the errors travel in the scenario's
`fitted` key, record), then write it with a comment on every value (provenance, render). When a
service's `replicas` is a metric (its running count over time), scaling fits the USL (usl) to
its capacity at each count and the report and the scenario's comments say where adding
replicas stops paying.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from model.fit.file import FitFile, load_fit_file_as
from model.fit.estimate import Estimate, ParamFit
from model.fit.latency import fit_latency
from model.fit.params import fit_parameters
from model.fit.provenance import provenance
from model.fit.record import fit_record
from model.fit.refine import given_miss_cost, refine_hosts, refine_workers
from model.fit.result import FitResult
from model.fit.errors import FitError
from model.fit.series import Observations, observations
from model.fit.traffic import LoadFit, fit_load, fit_load_test
from model.fit.validate import backtest, validate
from model.scenario.reader import ScenarioError, load_scenario, scenario_from_data
from model.scenario.fitted import FitRecord
from model.scenario.schema import Scenario

__all__ = ["FitError", "FitResult", "fit_scenario", "fit_to_file"]

DEFAULT_REGION = {"aws": "us-east-1", "gcp": "us-central1"}
MAX_BACKGROUND = (
    0.95  # a fitted intercept above this leaves requests no CPU: clamp and let validation show it
)


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
    comments, header = provenance(fit, name, source_name, obs, params, load)
    record = fit_record(validation, source_name)
    if record is not None:  # the validation's errors travel with the scenario (contract: fitted)
        document["fitted"] = record
        scenario = scenario.model_copy(update={"fitted": FitRecord.model_validate(record)})
        comments[("fitted",)] = (
            "the fit's validation: predicted against observed over the busiest periods (not solved)"
        )
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
    given_miss_cost(params)
    refine_workers(fit, obs, params)
    refine_hosts(fit, obs, params)
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
    if load.busiest_hour_rps is not None and load.busiest_hour_rps > workload["rate_rps"] * 1.001:
        # the busiest hour seen: recommend never sizes below what it needs (contract, issue 13)
        workload["observed_peak_rps"] = float(f"{load.busiest_hour_rps:.5g}")
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
