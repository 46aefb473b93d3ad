"""What a fit returns: the scenario, every value with its interval, the load, the checks.

Plain data; `to_json` is the machine-readable report (`fit --json`), `to_text` the one a
person reads in a terminal, with units on every number and the poor parts said plainly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from model.fit.traffic import LoadFit
from model.fit.estimate import VALUE_UNITS, ParamFit
from model.fit.validate import Backtest, Validation
from model.fit.render import render
from model.scenario.schema import Scenario


@dataclass
class FitResult:
    fit_file: str
    source: str
    start: str
    end: str
    period_s: int
    scenario: Scenario
    document: dict
    comments: dict[tuple, str]
    header: list[str]
    params: ParamFit
    load: LoadFit
    validation: Validation
    backtest: Backtest
    warnings: list[str] = field(default_factory=list)
    not_fitted: list[str] = field(default_factory=list)
    fetch_summary: str | None = None
    out_path: str | None = None

    def yaml_text(self) -> str:
        return render(self.document, self.comments, self.header)

    def to_json(self) -> dict:
        return {
            "fit_file": self.fit_file,
            "source": self.source,
            "window": {"start": self.start, "end": self.end, "period_s": self.period_s},
            "scenario": self.scenario.name,
            "out": self.out_path,
            "nodes": {name: nf.to_json() for name, nf in self.params.nodes.items()},
            "calls": {
                f"nodes.{src}.calls.{i}": {
                    "to": self.document["nodes"][src]["calls"][i]["to"],
                    **est.to_json(),
                }
                for (src, i), est in self.params.call_estimates.items()
            },
            "load": self.load.to_json(),
            "workload": dict(self.document["workload"]),
            "validation": self.validation.to_json(),
            "backtest": self.backtest.to_json(),
            "warnings": list(self.warnings),
            "not_fitted": list(self.not_fitted),
            "fetch": self.fetch_summary,
            "fitted_scenario": self.document,
            "latency_fit": self.params.latency.to_json() if self.params.latency is not None else None,
            "workers": {n: w.to_json() for n, w in self.params.workers.items()},
            "hosts": {h: f.to_json() for h, f in self.params.hosts.items()},
        }

    def to_text(self) -> str:
        kind = " (load test)" if self.load.mode == "load_test" else ""
        out = [
            f"Fit of {self.fit_file} ({self.source}){kind}, {self.start} to {self.end} at {self.period_s} s"
        ]
        if self.fetch_summary:
            out.append(f"  read: {self.fetch_summary}")
        out += ["", "Load at the entry node"] + self._load_lines()
        out += ["", "Nodes"]
        for name, nf in self.params.nodes.items():
            out.append(f"  {name} ({nf.kind}, {nf.visits:.3g} visits per request)")
            if nf.demand is not None and nf.demand_ms is not None:
                d = nf.demand
                lo, hi = nf.demand_ms_ci95 or (math.nan, math.nan)
                out.append(
                    f"    CPU demand {nf.demand_ms:.4g} ms per request (95% CI {lo:.4g} to {hi:.4g}) on {nf.capacity_cores:g} "
                    f"cores; background {100 * d.background:.1f} % CPU; R^2 {d.r2:.3f} over {d.points} periods"
                    + (
                        f" ({d.r2_all:.3f} with the {d.outlier_pct:.1f} % of periods off the line)"
                        if d.outlier_pct >= 0.1
                        else ""
                    )
                )
            for key, est in nf.values.items():
                if est.how == "given" and key not in VALUE_UNITS and key not in ("hit_ratio",):
                    continue
                unit = VALUE_UNITS.get(key, "")
                ci = (
                    f" (95% CI {est.ci95[0]:.4g} to {est.ci95[1]:.4g})"
                    if est.ci95 and est.how == "fitted"
                    else ""
                )
                out.append(f"    {key} = {_fmt(est.value)}{(' ' + unit) if unit else ''}{ci}  [{est.how}]")
            if nf.scaling is not None:
                out.append(f"    scaling with replicas (USL, from {nf.scaling.series} and cpu)")
                out += nf.scaling.to_text()
        out += self._extension_lines()
        calls = [(k, e) for k, e in self.params.call_estimates.items() if e.how != "given"]
        if calls:
            out += ["", "Calls"]
            for (src, i), est in calls:
                to = self.document["nodes"][src]["calls"][i]["to"]
                ci = f" (95% CI {est.ci95[0]:.3g} to {est.ci95[1]:.3g})" if est.ci95 else ""
                out.append(
                    f"  {src} -> {to}: {est.value:.4g} visits per {src} request{ci}  [{est.how}: {est.basis}]"
                )
        out += ["", f"Validation: the fitted scenario ({self.validation.method}) at the observed traffic"]
        out += [r.to_text() for r in self.validation.rows] or ["  nothing to compare"]
        out += [f"  note: {n}" for n in self.validation.notes]
        if self.backtest.validation is None:
            out += ["", "Backtest"]
            out.append(f"  {self.backtest.skipped}")
        else:
            out += ["", f"Backtest: fitted on {self.backtest.train}, predicting {self.backtest.test}"]
            out += [r.to_text() for r in self.backtest.validation.rows] or ["  nothing to compare"]
            out += [f"  note: {n}" for n in self.backtest.validation.notes]
        if self.not_fitted:
            out += ["", "Not fitted (check these in the scenario file)"] + [
                f"  - {n}" for n in self.not_fitted
            ]
        if self.warnings:
            out += ["", "Warnings"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(out)

    def _extension_lines(self) -> list[str]:
        """Shared hosts, worker counts and the latency fit (service_cv, network_ms), when there are any."""
        out: list[str] = []
        for host, hf in self.params.hosts.items():
            out.append(
                f"  host {host} ({hf.cpus:g} cores, only its CPU measured): "
                + (", ".join(f"{n} {v:.4g} ms per visit" for n, v in hf.per_visit_ms.items()) or "not split")
            )
            out += [
                f"    assumed: {', '.join(g)} share their cost equally per visit (their rates moved together)"
                for g in hf.groups
            ]
        for name, wf in self.params.workers.items():
            out.append(f"  {name} by worker count: {wf.summary().removeprefix('fitted: ')}")
        lf = self.params.latency
        if lf is not None and lf.network_ms is not None:
            ci = f" (95% CI {lf.network_ci95[0]:.3g} to {lf.network_ci95[1]:.3g})" if lf.network_ci95 else ""
            cv = (
                ""
                if lf.service_cv is None
                else (
                    f"; service_cv {lf.service_cv:.3g}"
                    + (f" (95% CI {lf.cv_ci95[0]:.3g} to {lf.cv_ci95[1]:.3g})" if lf.cv_ci95 else "")
                    + f" on {', '.join(lf.cv_nodes)}"
                )
            )
            out += [
                "",
                "Latency outside the stations and service-time variability",
                f"  network_ms {lf.network_ms:.3g} ms{ci}{cv}; from {lf.basis()}",
            ]
        if lf is not None:
            out += [f"  note: {n}" for n in lf.notes]
        return out

    def _load_lines(self) -> list[str]:
        load = self.load
        if load.mode == "load_test":
            lines = [
                f"  load test: planning rate {load.peak_rps:,.2f} req/s (the highest phase's mean); "
                f"highest period {load.max_rps:,.2f} req/s",
                f"  phases ({len(load.phases)}):",
            ]
            lines += [f"    {p.text()}" for p in load.phases]
            return lines + [f"  note: {n}" for n in load.notes]
        lines = [
            f"  planning rate {load.peak_rps:,.2f} req/s: the {load.peak_percentile:g}th percentile of the busiest hour of "
            f"{load.busy_hours} day(s); mean {load.mean_rps:,.2f} req/s, highest period {load.max_rps:,.2f} req/s"
        ]
        if load.growth_pct_per_month is not None and load.growth_ci95 is not None:
            lo, hi = load.growth_ci95
            lines.append(
                f"  growth {load.growth_pct_per_month:+.2f} % per month (95% CI {lo:+.2f} to {hi:+.2f}) "
                f"from {load.growth_days} days"
            )
        busiest = max(
            range(24), key=lambda h: load.daily_shape[h] if math.isfinite(load.daily_shape[h]) else -1
        )
        lines.append(
            f"  daily shape: busiest hour {busiest:02d}:00 UTC at {load.daily_shape[busiest]:.2f} x the mean"
        )
        if load.weekly_shape:
            days = "Mon Tue Wed Thu Fri Sat Sun".split()
            lines.append(
                "  weekly shape: " + " ".join(f"{d} {v:.2f}" for d, v in zip(days, load.weekly_shape))
            )
        lines += [f"  note: {n}" for n in load.notes]
        return lines


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
