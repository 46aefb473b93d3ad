"""Human-readable text for the command line: tables with units, money as money.

Plain functions from result objects to strings, so the CLI stays a thin shell and the
same wording can be tested without running a process.
"""

from __future__ import annotations

import json
import math
from typing import Any

from model.queueing.results import Results


def ms(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "unbounded"
    return f"{value:,.1f} ms" if value < 10_000 else f"{value / 1000:,.1f} s"


def money(value: float | None, currency: str = "USD") -> str:
    if value is None:
        return "n/a"
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    return f"{symbol}{value:,.2f}" if symbol else f"{value:,.2f} {currency}"


def pct(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def results_text(r: Results, kinds: dict[str, str], seed: int | None = None) -> str:
    how = (
        f"simulated {r.requests:,} requests" + (f" (seed {seed})" if seed is not None else "")
        if r.method == "sim"
        else "analytic solution (queueing formulas)"
    )
    if r.load_test is not None:
        how = f"simulated {r.load_test.duration_s:g} s of load" + (
            f" (seed {seed})" if seed is not None else ""
        )
    lat = r.latency_ms
    out = [f"{r.scenario}: {how} at {r.rate_rps:,.1f} requests/s", ""]
    ci = ""
    if r.latency_ci95_ms and "p99" in r.latency_ci95_ms:
        lo, hi = r.latency_ci95_ms["p99"]
        ci = f"  (p99 95% CI {ms(lo)} to {ms(hi)})"
    out.append(
        f"Latency   mean {ms(lat.mean)}   p50 {ms(lat.p50)}   p95 {ms(lat.p95)}   p99 {ms(lat.p99)}{ci}"
    )
    out.append(f"Served    {r.throughput_rps:,.1f} requests/s   errors {r.error_pct:.3f}%")
    if r.load_test is not None:
        t = r.load_test
        out.append(
            f"Load test {t.offered:,} requests offered, {t.completed:,} answered, {t.errors:,} errors, "
            f"{t.in_flight_end:,} still in the system at the end"
            + (f" (growing by {t.backlog_growth_rps:,.1f}/s)" if t.backlog_grows else "")
        )
    out.append("")
    rows = [
        [
            name,
            kinds.get(name, ""),
            f"{s.arrival_rps:,.1f}/s",
            str(s.servers),
            pct(s.utilization),
            ms(s.mean_wait_ms),
        ]
        for name, s in r.nodes.items()
    ]
    out.append(table(["node", "kind", "arrivals", "servers", "utilization", "mean wait"], rows))
    if r.kafka:
        out.append("")
        rows = [
            [name, ms(k.lag_p50_ms), ms(k.lag_p99_ms), f"{k.drop_pct:.3f}%"] for name, k in r.kafka.items()
        ]
        out.append(table(["topic", "lag p50", "lag p99", "dropped"], rows))
    if r.cost is not None:
        c = r.cost
        out.append("")
        per_m = (
            f"  ({money(c.per_million_requests, c.currency)} per million requests)"
            if c.per_million_requests
            else ""
        )
        estimated = c.estimated
        parts = ", ".join(
            f"{n} unknown"
            if v is None
            else f"{n} {money(v, c.currency)}" + (" (estimated)" if n in estimated else "")
            for n, v in c.by_node.items()
        )
        out.append(f"Cost      {money(c.monthly, c.currency)} a month{per_m}")
        out.append("          at the replicas in the file, all month (forecast shows the cost of record)")
        out.append(f"          {parts}")
        if c.caveat():
            out.append(f"          {c.caveat()}")
    out.append("")
    out.append("SLO       " + ("met" if r.slo.met else "NOT met: " + "; ".join(r.slo.violations)))
    out.append("Saturated " + (", ".join(r.saturated) if r.saturated else "none"))
    for warning in r.warnings:
        out.append(f"WARNING   {warning}")
    for note in r.notes:
        out.append(f"Note      {note}")
    return "\n".join(out)


def json_safe(value: Any) -> Any:
    """JSON has no infinity: an unbounded latency (a saturated queue) is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def json_text(value: Any) -> str:
    return json.dumps(json_safe(value), indent=2, allow_nan=False)
