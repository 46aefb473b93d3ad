"""results.json -> report.md: the run's measured numbers beside each solver's, in markdown tables."""

from __future__ import annotations

from dataclasses import asdict

from benchmarks.testbed.measure import Measured
from benchmarks.testbed.phases import RampStep
from benchmarks.testbed.phases import knee as find_knee
from benchmarks.testbed.ramp_report import ramp_table, ramp_worst
from benchmarks.testbed.report import (
    _e,
    _f,
    err_pct,
    phase_table,
    prediction_table,
    target_summary,
    whatif_rows,
)


def render(results: dict) -> str:
    phases = [Measured(**p) for p in results["phases"]]
    capacity = results.get("capacity_rps")
    settings, machine, fit = results["settings"], results["machine"], results["fit"]
    out = [
        "# Headroom testbed report",
        "",
        f"Profile `{results['profile']}`, {machine['when']}, {machine['cpus']} CPUs (load average at the end "
        f"{', '.join(f'{x:.2f}' for x in machine['load_average'])}); services on cores `{settings['service_cores'] or 'any'}`, "
        f"load generator on `{settings['loadgen_cores'] or 'any'}`. Service: gunicorn {settings['workers']} sync workers, "
        f"{settings['work_iters']} loop turns of Python per request, Redis cache-aside at hit ratio {settings['hit_ratio']}, "
        f"PostgreSQL join + aggregate on a miss, INSERT on {100 * settings['write_ratio']:.0f}% of requests.",
        "",
        *(
            [
                f"Fitted and predicted again at {results['remodel']['when']} from the measurements saved in "
                f"`{results['remodel']['source']}` (`--remodel`): the measured columns are that run's.",
                "",
            ]
            if results.get("remodel")
            else []
        ),
        f"Fit: {'ran' if fit['ok'] else 'FAILED'}, {fit['mode']}, over {results['fit_periods']} periods"
        + (f" ({fit['message']})" if fit["message"] else "")
        + ". "
        + (
            "Hosts variant (web, Redis and PostgreSQL sharing the service cores): "
            + (
                (
                    "fitted again with that placement declared in the fit file (`fit-hosts.yaml`), "
                    "predicted below."
                    if fit.get("hosts_how") == "fitted"
                    else "the fitted scenario with `hosts:` added, predicted below."
                )
                if fit.get("hosts_scenario")
                else "not accepted by this version's schema; skipped."
            )
        ),
        "",
    ]
    knee = results.get("knee")
    if knee:  # recomputed from the steps, so a report re-rendered from results.json uses today's rule
        knee = asdict(find_knee([RampStep(**s) for s in knee["steps"]]))
        out += [
            "## Capacity",
            "",
            "Ramp (open-loop Poisson, each step as long as `ramp_step_s`):",
            "",
            "| offered req/s | served req/s | mean ms | p99 ms | errors % |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {_f(s['offered_rps'])} | {_f(s['served_rps'])} | {_f(s['mean_ms'])} | {_f(s['p99_ms'])} | {_f(s['error_pct'], 2)} |"
            for s in knee["steps"]
        ]
        out += [
            "",
            f"Measured capacity (most served in a step): **{capacity:.1f} req/s**; knee (the first offered rate "
            f"from which every step missed: served < 95% of offered or errors ≥ 1%): **{knee['knee_rps']:.1f} req/s**.",
            "",
        ]
    if results.get("predicted_capacity"):
        knee_rps = knee["knee_rps"] if knee else None
        out += [
            "Predicted capacity, error against the measured capacity / the knee:",
            "",
            "| scenario | analytic: saturates at | error | sim: utilization law | error |",
            "|---|---|---|---|---|",
        ]
        for vname, c in results["predicted_capacity"].items():
            a, s = c.get("analytic_saturates_rps"), c.get("sim_utilization_law_rps")
            out.append(
                f"| {vname} | {_f(a)} req/s | {_e(err_pct(a, capacity))} / {_e(err_pct(a, knee_rps))} "
                f"| {_f(s)} req/s | {_e(err_pct(s, capacity))} / {_e(err_pct(s, knee_rps))} |"
            )
        out.append("")
    out += ["## Measured phases", ""]
    out += phase_table(phases, capacity) + [""]
    out += [
        "## Predictions",
        "",
        "Error = (predicted − measured) / measured. CPU in % of one core per node "
        "(utilization × servers for the model).",
        "",
    ]
    answers = results.get("answers", {})
    for label, by_phase in answers.items():
        out += prediction_table(phases, by_phase, label) + [""]
    if capacity and answers:
        out += [
            "### Targets (issue 11): worst error from 20% to 90% of capacity",
            "",
            "| solver | worst mean error | worst p99 error | target |",
            "|---|---|---|---|",
        ]
        for label, by_phase in answers.items():
            worst = target_summary(phases, by_phase, capacity)
            target = "±15%" if label.startswith("sim") else "±20%"
            out.append(f"| {label} | {_e(worst['mean'])} | {_e(worst['p99'])} | {target} |")
        out.append("")
    ramp = results.get("ramp_answers") or {}
    if knee and capacity and ramp:
        out += [
            "### The ramp's steps, predicted",
            "",
            "The same solvers at each ramp step's offered rate (measured before the phases, in short steps):",
            "",
        ]
        out += ramp_table(knee["steps"], ramp, capacity) + [""]
        out += [
            "| solver | worst mean error, ramp 20-90% | worst p99 error, ramp 20-90% | target |",
            "|---|---|---|---|",
        ]
        for label, by_step in ramp.items():
            worst = ramp_worst(knee["steps"], by_step, capacity)
            target = "±15%" if label.startswith("sim") else "±20%"
            out.append(f"| {label} | {_e(worst['mean'])} | {_e(worst['p99'])} | {target} |")
        out.append("")
    base = next((m for m in phases if m.name == "whatif-base"), None)
    cases = [m for m in phases if m.kind == "whatif" and m.name != "whatif-base"]
    if base and cases and answers:
        out += [
            "## What-ifs",
            "",
            f"Measured at {base.offered_rps:.1f} req/s, each against the baseline measured just before.",
            "",
            "| what-if | statistic | measured | "
            + " | ".join(f"predicted change, {label}" for label in answers)
            + " |",
            "|---|---|---|" + "---|" * len(answers),
        ]
        for case in cases:
            out += whatif_rows(
                base,
                case,
                {label: a.get(base.name, {}) for label, a in answers.items()},
                {label: a.get(case.name, {}) for label, a in answers.items()},
            )
        out.append("")
    fitted = (fit.get("report") or {}).get("fit") or {}
    if fitted:
        out += ["## What the fit found", ""] + _fit_summary(fitted) + [""]
    out.append(f"Wall time {results.get('wall_s', 0):.0f} s.")
    return "\n".join(out) + "\n"


def _fit_summary(report: dict) -> list[str]:
    """The fitted values (with their intervals) and the fit's own validation; the full JSON is in results.json."""
    lines = ["| node | key | value | how | 95% interval |", "|---|---|---|---|---|"]
    for node, info in (report.get("nodes") or {}).items():
        for key, v in (info.get("values") or {}).items():
            if not isinstance(v, dict) or v.get("how") == "given":
                continue
            ci = v.get("ci95")
            ci_text = f"{ci[0]:.4g} to {ci[1]:.4g}" if isinstance(ci, (list, tuple)) and len(ci) == 2 else "–"
            lines.append(f"| {node} | {key} | {v.get('value')} | {v.get('how')} | {ci_text} |")
    rows = (report.get("validation") or {}).get("rows") or []
    if rows:
        lines += [
            "",
            "The fit's validation over its own periods:",
            "",
            "| series | observed | predicted | MAPE % | verdict |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {r.get('what')} ({r.get('unit')}) | {_f(r.get('observed_mean'), 2)} | {_f(r.get('predicted_mean'), 2)} "
            f"| {_f(r.get('mape_pct'))} | {r.get('verdict')} |"
            for r in rows
        ]
    warnings = report.get("warnings") or []
    if warnings:
        lines += ["", f"Fit warnings ({len(warnings)}):", ""] + [f"- {w}" for w in warnings[:12]]
    return lines


if __name__ == "__main__":  # python -m benchmarks.testbed.render results.json > report.md
    import json
    import sys

    print(render(json.loads(open(sys.argv[1]).read())), end="")
