"""The peak event as the command line prints it: the verdict, what to add, the cost, the minutes that matter."""

from __future__ import annotations

import math

from model.planning.peak import PeakResult, summary
from model.planning.report import money, ms, table


def _changes(changes: dict, unfixable: dict) -> list[str]:
    lines = [f"  {path} = {value}" for path, value in changes.items()] or ["  nothing"]
    return lines + [f"  {node}: cannot be fixed by adding units ({why})" for node, why in unfixable.items()]


def peak_text(result: PeakResult) -> str:
    event, cost = result.event, result.cost
    node, rate = result.first_to_saturate
    out = [
        f"{result.scenario}: peak event of {event.factor:g}x for {event.days:g} day(s), "
        f"ramp {event.ramp_minutes:g} min (planning load {result.base_rps:,.1f} req/s)",
        "",
        ("HOLDS" if result.holds else "BREAKS") + ": " + summary(result),
    ]
    if math.isfinite(rate):
        out.append(
            f"First to saturate: {node} at {rate:,.1f} req/s ({rate / result.base_rps:.2f}x the planning load"
            + (", autoscaled nodes at their max)" if result.scaling else ")")
        )
    for name, s in result.scaling.items():
        out.append(f"Autoscaling: {name} {s['before']} -> {s['peak']} replicas (max {s['max']})")
    target = f"{100 * result.additions.target_utilization:g}%"
    out += ["", f"To hold the plateau with every node at or under {target}, add before the event:"]
    out += _changes(result.additions.changes, result.additions.unfixable)
    out += ["With one zone lost as well:"]
    out += _changes(result.zone_additions.changes, result.zone_additions.unfixable)
    extra = cost.to_json()
    out += [
        "",
        f"Cost of the event's {cost.hours:,.1f} hours: {money(cost.event_usd)} against {money(cost.normal_usd)} "
        f"on normal days: {money(cost.extra_usd)} extra",
        f"  with the additions in place: {money(extra['extra_with_additions'])} extra; "
        f"with the zone-loss additions: {money(extra['extra_with_zone_additions'])} extra",
        "",
    ]
    rows, before = [], None
    for k, m in enumerate(result.series):
        changed = before is not None and (
            m.replicas != before.replicas or bool(m.violations) != bool(before.violations)
        )
        held = result.held is not None and before is not None and before.minute < result.held[0] <= m.minute
        if held:
            rows.append(
                [f"{result.held[0]:,.0f}", "...", "plateau held at the settled state", "", "", "", "", "", ""]
            )
        before = m
        if not (k in (0, len(result.series) - 1) or changed or held or round(m.minute) % 10 == 0):
            continue  # every tenth minute, and every one where something changes
        rows.append(
            [
                f"{m.minute:,.0f}",
                f"{m.rate_rps:,.1f}",
                " ".join(f"{n}={r}" for n, r in m.replicas.items()) or "-",
                f"{m.busiest} {100 * m.utilization:.0f}%",
                ms(m.p99_ms),
                f"{m.error_pct:.3f}%",
                f"{m.kafka_drop_pct:.3f}%",
                m.source,
                "ok" if not m.violations else "MISSED",
            ]
        )
    out.append(
        table(["minute", "req/s", "replicas", "busiest", "p99", "errors", "kafka drops", "from", "SLO"], rows)
    )
    sim = result.simulated
    if sim["requests"]:
        out.append(
            f"Simulated minutes {sim['from_minute']:,.0f} to {sim['to_minute']:,.0f} ({sim['requests']:,} requests"
            + (f", seed {sim['seed']})" if sim["seed"] is not None else ")")
        )
    out += [f"Note: {n}" for n in result.notes]
    return "\n".join(out)
