"""The fitted scenario's provenance: a comment for every value (fitted, given or assumed, from what)
and the header that says where the data came from. model.fit.render writes them beside the YAML.
"""

from __future__ import annotations

from model.fit.estimate import VALUE_UNITS, ParamFit
from model.fit.file import FitFile
from model.fit.render import comment_for
from model.fit.series import Observations
from model.fit.traffic import LoadFit


def provenance(
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
    if load.busiest_hour_rps is not None:
        comments[("workload", "observed_peak_rps")] = (
            f"fitted: the busiest hour of traffic over the {days:.0f} days observed (recommend holds it)"
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
            comments[("nodes", node, key)] = comment_for(est, VALUE_UNITS.get(key, ""))
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
