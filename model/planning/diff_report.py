"""A diff as people read it: a terminal table, or a pull-request comment in Markdown.

The comment leads with one line a reviewer can act on ("p99 +38 ms (190 -> 228 ms, SLO 500 ms
met), cost -$280.00/month, runway 12 -> 7 months"), then the table, then the changed keys and
the method in a collapsed section, because most readers stop after the first line.
"""

from __future__ import annotations

import math
from typing import Any

from model.planning.diff import Diff, Side
from model.planning.report import money, ms, table

MARKER = "<!-- headroom-diff -->"  # lets a CI job find and update its own comment


def _runway(side: Side) -> str:
    return f"> {side.horizon_months}" if side.runway_months is None else str(side.runway_months)


def _signed_money(value: float, currency: str) -> str:
    if abs(value) < 0.005:
        return "unchanged"
    return ("+" if value > 0 else "-") + money(abs(value), currency)


def _signed(value: float | None, unit: str, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if abs(value) < 0.5 * 10**-digits:
        return "0"
    return f"{value:+,.{digits}f}{unit}"


def _saturates(side: Side) -> str:
    return "never" if not math.isfinite(side.saturation_rps) else f"{side.saturation_rps:,.1f} req/s"


def verdict(d: Diff, arrow: str = "->") -> str:
    """One line: what the change does to p99 (against HEAD's SLO), the bill and the runway."""
    b, h = d.base, d.head
    bp, hp = b.latency_ms["p99"], h.latency_ms["p99"]
    slo = "SLO met" if h.slo_met else "SLO MISSED"
    if h.slo_p99_ms is not None:
        slo = f"SLO {h.slo_p99_ms:,.0f} ms {'met' if h.slo_met else 'MISSED'}"
    if math.isfinite(bp) and math.isfinite(hp) and abs(hp - bp) < 0.5:
        p99 = f"p99 unchanged ({hp:,.0f} ms, {slo})"
    elif math.isfinite(bp) and math.isfinite(hp):
        p99 = f"p99 {_signed(hp - bp, ' ms', 0)} ({bp:,.0f} {arrow} {hp:,.0f} ms, {slo})"
    elif not math.isfinite(hp):
        p99 = f"p99 unbounded: {', '.join(h.saturated) or h.busiest} saturates ({slo})"
    else:
        p99 = f"p99 {ms(hp)}, was unbounded ({slo})"
    cost = _signed_money(h.monthly - b.monthly, h.currency)
    cost = "cost unchanged" if cost == "unchanged" else f"cost {cost}/month"
    if b.runway_months == h.runway_months:
        run = f"runway {_runway(h)} months (unchanged)"
    else:
        run = f"runway {_runway(b)} {arrow} {_runway(h)} months"
    return f"{p99}, {cost}, {run}"


def comparison_rows(d: Diff) -> list[list[str]]:
    b, h, delta = d.base, d.head, d.deltas()
    cur = h.currency
    rows = [
        [f"{k} latency", ms(b.latency_ms[k]), ms(h.latency_ms[k]), _signed(delta["latency_ms"][k], " ms")]
        for k in ("p50", "p95", "p99")
    ]
    rows.append(
        ["errors", f"{b.error_pct:.3f}%", f"{h.error_pct:.3f}%", _signed(delta["error_pct"], " pts", 3)]
    )
    rows.append(
        [
            "busiest pool",
            f"{b.busiest} {100 * b.busiest_utilization:.0f}%",
            f"{h.busiest} {100 * h.busiest_utilization:.0f}%",
            _signed(100 * delta["busiest_utilization"], " pts", 0),
        ]
    )
    rows.append(
        [
            "saturates at (HPA at max)" if d.autoscaled else "saturates at",
            _saturates(b),
            _saturates(h),
            _signed(delta["saturation_rps"], " req/s"),
        ]
    )
    rows.append(
        ["runway", f"{_runway(b)} months", f"{_runway(h)} months", _signed(delta["runway_months"], "", 0)]
    )
    rows.append(
        [
            "monthly cost",
            money(b.monthly, b.currency) + _mark(b),
            money(h.monthly, cur) + _mark(h),
            _signed_money(delta["monthly"], cur),
        ]
    )
    per_m = delta["per_million_requests"]
    rows.append(
        [
            "cost per million requests",
            money(b.per_million_requests, b.currency),
            money(h.per_million_requests, cur),
            "n/a" if per_m is None else _signed_money(per_m, cur),
        ]
    )
    rows.append(["SLO", "met" if b.slo_met else "MISSED", "met" if h.slo_met else "MISSED", ""])
    return rows


def _mark(side: Side) -> str:
    """A bill that rests on estimated or unknown prices says so beside the number."""
    return " (estimated)" if side.cost_caveat else ""


def _caveats(d: Diff) -> list[str]:
    return [
        f"{name} cost: {side.cost_caveat}"
        for side, name in ((d.base, "BASE"), (d.head, "HEAD"))
        if side.cost_caveat
    ]


def _value(value: Any) -> str:
    return "(absent)" if value is None else str(value)


def _load(d: Diff) -> str:
    when = "today" if d.months == 0 else f"{d.months} months ahead"
    how = "queueing formulas (analytic)" if d.method == "analytic" else f"simulation (seed {d.seed})"
    rates = (
        f"{d.base.rate_rps:,.1f} req/s"
        if abs(d.base.rate_rps - d.head.rate_rps) < 1e-9
        else f"{d.base.rate_rps:,.1f} -> {d.head.rate_rps:,.1f} req/s"
    )
    return f"at the planning load {when} ({rates}), by {how}"


def diff_text(d: Diff) -> str:
    out = [f"{d.base.label} -> {d.head.label}", f"{verdict(d)}", "", f"Compared {_load(d)}.", ""]
    out.append(table(["", "BASE", "HEAD", "change"], comparison_rows(d)))
    out.append("")
    if d.changes:
        out.append(
            table(
                ["changed key", "before", "after"],
                [[c.path, _value(c.before), _value(c.after)] for c in d.changes],
            )
        )
    else:
        out.append("No key differs between the two files.")
    for side, name in ((d.base, "BASE"), (d.head, "HEAD")):
        if not side.slo_met:
            out.append(f"{name} misses its SLO: {'; '.join(side.violations)}")
    out += [f"Note: {n}" for n in d.notes + _caveats(d)]
    return "\n".join(out)


def _md(text: str) -> str:
    """A table cell: no pipes or newlines from a value can break the table."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def diff_markdown(d: Diff) -> str:
    status = "SLO met" if d.head.slo_met else "SLO missed"
    lines = [MARKER, f"**Headroom: {status}.** {verdict(d, '→')}", ""]
    lines += ["| | base | head | change |", "|---|---:|---:|---:|"]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in comparison_rows(d)]
    lines += ["", "<details><summary>Details</summary>", "", f"Compared {_md(_load(d))}.", ""]
    if d.changes:
        lines += ["| changed key | before | after |", "|---|---|---|"]
        lines += [
            f"| `{_md(c.path)}` | {_md(_value(c.before))} | {_md(_value(c.after))} |" for c in d.changes
        ]
    else:
        lines.append("No key differs between the two files.")
    for side, name in ((d.base, "Base"), (d.head, "Head")):
        if not side.slo_met:
            lines += ["", f"{name} misses its SLO: {_md('; '.join(side.violations))}"]
    lines += [f"- {_md(n)}" for n in d.notes + _caveats(d)]
    lines += ["", f"Base `{_md(d.base.label)}`, head `{_md(d.head.label)}`.", "", "</details>"]
    return "\n".join(lines)
