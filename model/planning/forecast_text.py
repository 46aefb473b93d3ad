"""The forecast as the command line prints it: the table, the runway, the months that are not a plan,
the budget and the growth in use. Takes a `model.planning.forecast.Forecast` (duck-typed, so the
forecast module can call it without the two importing each other)."""

from __future__ import annotations

from typing import Any

from model.planning.report import money, ms, table


def forecast_text(f: Any) -> str:
    how = "queueing formulas" if f.method == "analytic" else "simulation"
    head = [
        f"{f.scenario}: forecast with today's configuration ({how}), "
        f"load growing {f.growth_pct_per_month:g}% a month",
        "",
    ]
    band = f.growth_band_pct is not None
    headers = ["month", "load", "monthly cost", "per million", "p99", "SLO", "busiest node"]
    if band:
        headers += ["cost band", "p99 band"]
    rows = []
    for m in f.months:
        row = [
            f"{m.month} ({m.calendar_month})" if m.calendar_month else str(m.month),
            f"{m.rate_rps:,.1f} req/s",
            money(m.monthly, f.currency) + (" *" if m.verdict else "") + (" over" if m.over_budget else ""),
            money(m.per_million, f.currency) + (" *" if m.verdict else ""),
            ms(m.p99_ms),
            "met" if m.slo_met else "MISSED",
            f"{m.bottleneck} {100 * m.utilization:.0f}%",
        ]
        if band and m.low and m.high:
            row += [
                f"{money(m.low[1], f.currency)} to {money(m.high[1], f.currency)}",
                f"{ms(m.low[2])} to {ms(m.high[2])}",
            ]
        rows.append(row)
    out = head + [table(headers, rows), ""]
    marked = any(m.verdict for m in f.months)
    out.append(_runway(f))
    out += _not_a_plan(f)
    if f.budget_usd is not None:
        out.append(_budget(f))
    if band:
        lo, hi = f.growth_band_pct
        if f.growth_sd_pct is not None:
            out.append(
                f"Band: growth {f.growth_pct_per_month:g}% +/- {1.645:g} x {f.growth_sd_pct:g}% a month "
                f"({lo:.3g}% to {hi:.3g}%)."
            )
        else:
            out.append(f"Band: the fit's 90% interval of growth, {lo:g}% to {hi:g}% a month.")
    if f.growth is not None:
        out.append(f"Growth: {f.growth.sentence()}.")
    out.append(
        "Per million: the month's bill over the requests of the month (its mean rate x 730 h), "
        "not the peak's" + ("; in a month marked * not all of them are served." if marked else ".")
    )
    out += [f"Note: {n}" for n in f.notes]
    return "\n".join(out)


def _runway(f: Any) -> str:
    runway = f.runway_months
    if runway is None:
        return f"Runway: the SLO holds for all {len(f.months) - 1} months."
    if runway == 0:
        return f"Runway: none, the SLO is already missed today ({'; '.join(f.months[0].violations)})."
    m = f.months[runway]
    return (
        f"Runway: {runway} months. In month {runway} ({m.rate_rps:,.1f} req/s) the SLO is missed: "
        f"{'; '.join(m.violations)}. {m.bottleneck} gives out first "
        f"({100 * m.utilization:.0f}% busy)."
    )


def _not_a_plan(f: Any) -> list[str]:
    """The months marked * in the table: how many, and the first one's sentence."""
    marked = [m for m in f.months if m.verdict]
    if not marked:
        return []
    shown = len(f.months)
    return [
        f"WARNING: {len(marked)} of the {shown} months shown are not a plan (marked *): "
        f"{f.slo_missed_months} miss the SLO, {f.saturated_months} saturate.",
        f"WARNING: month {marked[0].month}: {marked[0].verdict}.",
    ]


def _budget(f: Any) -> str:
    first = f.first_over_budget
    budget = money(f.budget_usd, f.currency)
    if first is None:
        return f"Budget: {budget} a month is not exceeded in months 0 to {len(f.months) - 1}."
    m = f.months[first]
    return (
        f"Budget: {budget} a month is first exceeded in month {first} ({m.calendar_month}): "
        f"{money(m.monthly, f.currency)} (marked over)."
    )
