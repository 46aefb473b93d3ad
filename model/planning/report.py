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
    load = f"{r.rate_rps:,.1f} requests/s"
    if r.closed is not None:  # a closed workload: the users are given, the rate is what they send
        c = r.closed
        load = f"{c.users:,} users thinking {ms(c.think_ms)} (they send {r.rate_rps:,.1f} requests/s)"
    out = [f"{r.scenario}: {how} at {load}", ""]
    ci = ""
    if r.latency_ci95_ms and "p99" in r.latency_ci95_ms:
        lo, hi = r.latency_ci95_ms["p99"]
        ci = f"  (p99 95% CI {ms(lo)} to {ms(hi)})"
    out.append(
        f"Latency   mean {ms(lat.mean)}   p50 {ms(lat.p50)}   p95 {ms(lat.p95)}   p99 {ms(lat.p99)}{ci}"
    )
    out.append(f"Served    {r.throughput_rps:,.1f} requests/s   errors {r.error_pct:.3f}%")
    if r.closed is not None:
        c = r.closed
        out.append(
            f"Users     knee N* {c.knee_users:,.0f} users, most throughput {c.max_throughput_rps:,.1f} "
            f"requests/s ({c.bottleneck} saturates first)"
        )
    if r.load_test is not None:
        t = r.load_test
        out.append(
            f"Load test {t.offered:,} requests offered, {t.completed:,} answered, {t.errors:,} errors, "
            f"{t.in_flight_end:,} still in the system at the end"
            + (f" (growing by {t.backlog_growth_rps:,.1f}/s)" if t.backlog_grows else "")
        )
    out += through_time_text(r)
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


def round_or_inf(value: float, digits: int = 3) -> float:
    """A number for JSON, rounded; an unbounded one (a queue that grows) stays inf (json_safe writes null)."""
    return round(float(value), digits) if math.isfinite(value) else math.inf


def round_or_none(value: float, digits: int = 3) -> float | None:
    """A number for JSON, rounded; None when it is unbounded."""
    return round(float(value), digits) if math.isfinite(value) else None


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


def through_time_text(r: Results, rows: int = 24) -> list[str]:
    """Client retries (issue 18) and a timed run's load through time, as lines for results_text."""
    out: list[str] = []
    if r.retries is not None:
        x, p = r.retries, r.retries.policy
        out.append(
            f"Retries   up to {p.attempts} more attempt(s), backoff {ms(p.backoff_ms)} doubling"
            + (" with jitter" if p.jitter else "")
            + f": {x.amplification:.3f} attempts per request, {x.offered_rps:,.1f} attempts/s offered, "
            f"goodput {x.goodput_rps:,.1f}/s; {x.attempt_error_pct:.3f}% of attempts failed, "
            f"{x.error_pct:.3f}% of requests after their last"
        )
        k = x.risk
        out.append(
            f"          every attempt failing, clients would send {k.storm_rps:,.1f}/s against a capacity of "
            f"{k.capacity_rps:,.1f}/s: "
            + (
                "a storm, once started, sustains itself (metastable)"
                if k.sustains
                else "a storm would die out"
            )
        )
    series = getattr(r.load_test, "series", None)
    if series is None:
        return out
    step = max(1, -(-len(series.start_s) // rows))
    width = series.bucket_s * step
    table_rows = []
    for i in range(0, len(series.start_s), step):
        m = series.mean_between(series.start_s[i], series.start_s[i] + width - 1e-9)
        table_rows.append(
            [f"{series.start_s[i]:g} s"]
            + [f"{m[key]:,.1f}" for key in ("requests_rps", "offered_rps", "goodput_rps", "errors_rps")]
        )
    out += ["", f"Through time (per {width:g} s)"]
    out.append(table(["from", "requests/s", "offered/s", "goodput/s", "errors/s"], table_rows))
    burst = r.load_test.burst
    if burst is not None:
        after = burst.start_s + burst.length_s
        when = series.recovered_at_s(after)
        end = series.end()
        out.append(
            f"Burst     {burst.factor:g} x the rate from {burst.start_s:g} s for {burst.length_s:g} s: "
            + (
                f"recovered at {when:g} s ({when - after:g} s after it ended)"
                if when is not None
                else f"still failing when the run ended (goodput {end['goodput_rps']:,.1f}/s of "
                f"{end['requests_rps']:,.1f} requests/s since {end['from_s']:g} s)"
            )
        )
    return out
