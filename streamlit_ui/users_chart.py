"""Users against throughput and latency, as a load-test report draws them, with the knee N* marked.

Plain Altair from a frame (no Streamlit), so tests can build it. The throughput panel carries the two
asymptotes of operational analysis: N / (D + Z) while users are few, the bottleneck's capacity once
they are many; they cross at the knee N*.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

LATENCY_COLOURS = alt.Scale(domain=["mean", "p95", "p99"], range=["#93c5fd", "#3b82f6", "#1e3a8a"])
KNEE = "#c62828"
NOW = "#111827"


def users_frame(points) -> pd.DataFrame:
    """Rows: users, throughput_rps, mean_ms, p95_ms, p99_ms, slo_met (model.planning.users.UsersPoint)."""
    return pd.DataFrame([p.__dict__ for p in points])


def users_chart(
    frame: pd.DataFrame,
    knee_users: float,
    max_throughput_rps: float,
    cycle_ms: float,
    users_now: int,
    slo_p99_ms: float | None,
    max_users: int | None = None,
) -> alt.VConcatChart:
    """Throughput (with its bounds) and latency against concurrent users; the knee, today's users,
    the SLO and the most users within it marked. `cycle_ms` is D + Z (one user alone: request + think)."""
    top_users = float(frame["users"].max()) if len(frame) else 1.0
    x = alt.X("users:Q", title="concurrent users", scale=alt.Scale(domain=[0, top_users]))
    bound = pd.DataFrame({"users": [0.0, top_users]})
    bound["bound_rps"] = [
        min(u * 1000.0 / cycle_ms if cycle_ms > 0 else math.inf, max_throughput_rps) for u in bound["users"]
    ]
    if len(bound) and math.isfinite(knee_users) and 0 < knee_users < top_users:  # the corner
        bound = pd.concat([bound, pd.DataFrame({"users": [knee_users], "bound_rps": [max_throughput_rps]})])
        bound = bound.sort_values("users")
    throughput = (
        alt.Chart(frame)
        .mark_line(point=True, strokeWidth=2.5, color="#1e3a8a")
        .encode(
            x=x,
            y=alt.Y("throughput_rps:Q", title="throughput (requests/s)"),
            tooltip=[
                alt.Tooltip("users:Q", format=","),
                alt.Tooltip("throughput_rps:Q", title="req/s", format=",.1f"),
            ],
        )
    )
    bounds = (
        alt.Chart(bound)
        .mark_line(strokeDash=[5, 4], color="#6b7280")
        .encode(
            x="users:Q",
            y="bound_rps:Q",
            tooltip=[alt.Tooltip("bound_rps:Q", title="bound req/s", format=",.1f")],
        )
    )
    long = frame.melt(
        id_vars=["users"],
        value_vars=["mean_ms", "p95_ms", "p99_ms"],
        var_name="statistic",
        value_name="latency_ms",
    )
    long["statistic"] = long["statistic"].str.replace("_ms", "", regex=False)
    long = long[long["latency_ms"].apply(math.isfinite)]
    latency = (
        alt.Chart(long)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y("latency_ms:Q", title="latency (ms)"),
            color=alt.Color("statistic:N", scale=LATENCY_COLOURS, title=None),
            tooltip=[
                alt.Tooltip("users:Q", format=","),
                "statistic:N",
                alt.Tooltip("latency_ms:Q", title="ms", format=",.1f"),
            ],
        )
    )
    marks = [(users_now, f"now {users_now:,}", NOW, [4, 3])]
    if math.isfinite(knee_users) and knee_users <= top_users:
        marks.append((knee_users, f"knee N* {knee_users:,.0f}", KNEE, [1, 0]))
    if max_users is not None and max_users <= top_users:
        marks.append((max_users, f"SLO holds to {max_users:,}", "#2e7d32", [6, 3]))
    rules = []
    for k, (value, label, colour, dash) in enumerate(marks):
        mark = pd.DataFrame({"users": [value], "label": [label]})
        rules += [
            alt.Chart(mark).mark_rule(color=colour, strokeDash=dash).encode(x="users:Q"),
            alt.Chart(mark)
            .mark_text(align="left", dx=4, color=colour, fontSize=11)
            .encode(x="users:Q", y=alt.value(10 + 14 * k), text="label:N"),
        ]
    top_panel = alt.layer(throughput, bounds, *rules).properties(height=220, title="Throughput")
    bottom = [latency, *rules]
    if slo_p99_ms:
        slo = pd.DataFrame({"latency_ms": [slo_p99_ms], "label": [f"p99 SLO {slo_p99_ms:,.0f} ms"]})
        bottom += [
            alt.Chart(slo).mark_rule(color=KNEE, strokeDash=[6, 4]).encode(y="latency_ms:Q"),
            alt.Chart(slo)
            .mark_text(align="left", x=4, dy=-6, color=KNEE, fontSize=11)
            .encode(y="latency_ms:Q", text="label:N"),
        ]
    bottom_panel = alt.layer(*bottom).properties(height=240, title="Latency")
    return alt.vconcat(top_panel, bottom_panel).resolve_scale(color="independent")
