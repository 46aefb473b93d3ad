"""Altair charts, as plain functions from frames to charts (no Streamlit, so tests can build them)."""

from __future__ import annotations

import math
import warnings

import altair as alt
import pandas as pd

PERCENTILE_COLOURS = alt.Scale(domain=["p50", "p95", "p99"], range=["#93c5fd", "#3b82f6", "#1e3a8a"])
NODE_PALETTE = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#b279a2",
    "#e45756",
    "#72b7b2",
    "#eeca3b",
    "#9d755d",
    "#ff9da6",
    "#bab0ac",
)


def node_colours(first: list[str], others: list[str] = ()) -> alt.Scale:
    """One colour per node on every page: the open scenario's nodes take the palette in their file
    order (so `web` is the same blue on Cost, Compare and Observe), other scenarios' nodes follow."""
    domain = list(dict.fromkeys([*first, *sorted(set(others) - set(first))]))
    return alt.Scale(domain=domain, range=[NODE_PALETTE[k % len(NODE_PALETTE)] for k in range(len(domain))])


def latency_vs_load(
    curve: pd.DataFrame, current_rps: float, slo_p99_ms: float | None, saturation_rps: float
) -> alt.Chart:
    """The hockey stick: latency percentiles against the entry rate, today's load and the SLO marked."""
    finite = curve[curve["latency_ms"] < 1e9]
    top = float(finite[finite["percentile"] == "p99"]["latency_ms"].quantile(0.8)) if len(finite) else 1000.0
    if slo_p99_ms:
        top = max(top, 2.0 * slo_p99_ms)
    y = alt.Y("latency_ms:Q", title="latency (ms)", scale=alt.Scale(domain=[0, top], clamp=True))
    x = alt.X(
        "rate_rps:Q",
        title="load (requests/s at the entry)",
        scale=alt.Scale(
            domain=[0, max(saturation_rps if math.isfinite(saturation_rps) else 0, current_rps) * 1.02]
        ),
    )
    lines = (
        alt.Chart(finite)
        .mark_line(clip=True, strokeWidth=2.5)
        .encode(
            x=x,
            y=y,
            color=alt.Color("percentile:N", scale=PERCENTILE_COLOURS, title=None),
            tooltip=[
                alt.Tooltip("rate_rps:Q", title="req/s", format=",.0f"),
                "percentile:N",
                alt.Tooltip("latency_ms:Q", title="ms", format=",.1f"),
            ],
        )
    )
    marks = pd.DataFrame({"rate_rps": [current_rps], "label": [f"today's load {current_rps:,.0f}/s"]})
    today = alt.Chart(marks).mark_rule(color="#111827", strokeDash=[4, 3]).encode(x="rate_rps:Q")
    today_label = (
        alt.Chart(marks)
        .mark_text(align="left", dx=4, dy=-6, color="#111827", fontSize=11)
        .encode(x="rate_rps:Q", y=alt.value(10), text="label:N")
    )
    layers = [lines, today, today_label]
    if math.isfinite(saturation_rps):
        sat = pd.DataFrame({"rate_rps": [saturation_rps], "label": [f"saturates {saturation_rps:,.0f}/s"]})
        layers += [
            alt.Chart(sat).mark_rule(color="#c62828").encode(x="rate_rps:Q"),
            alt.Chart(sat)
            .mark_text(align="right", dx=-4, dy=-6, color="#c62828", fontSize=11)
            .encode(x="rate_rps:Q", y=alt.value(26), text="label:N"),
        ]
    if slo_p99_ms:
        slo = pd.DataFrame({"latency_ms": [slo_p99_ms], "label": [f"p99 SLO {slo_p99_ms:,.0f} ms"]})
        layers += [
            alt.Chart(slo).mark_rule(color="#c62828", strokeDash=[6, 4]).encode(y="latency_ms:Q"),
            alt.Chart(slo)
            .mark_text(align="left", x=4, dy=-6, color="#c62828", fontSize=11)
            .encode(y="latency_ms:Q", text="label:N"),
        ]
    return alt.layer(*layers).properties(height=320)


def percentiles_vs_slo(rows: pd.DataFrame) -> alt.Chart:
    """Bars of p50/p95/p99 (one group per method) with the SLO targets as red ticks.

    `rows`: columns percentile, method, latency_ms, slo_ms (NaN where no target).
    """
    bars = (
        alt.Chart(rows)
        .mark_bar()
        .encode(
            x=alt.X("percentile:N", title=None, sort=["p50", "p95", "p99"], axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("method:N"),
            y=alt.Y("latency_ms:Q", title="latency (ms)"),
            color=alt.Color("method:N", title=None, scale=alt.Scale(range=["#3b82f6", "#f59e0b"])),
            tooltip=["percentile:N", "method:N", alt.Tooltip("latency_ms:Q", format=",.1f", title="ms")],
        )
    )
    targets = rows.dropna(subset=["slo_ms"]).drop_duplicates("percentile")
    ticks = (
        alt.Chart(targets)
        .mark_tick(color="#c62828", thickness=3, size=60)
        .encode(
            x=alt.X("percentile:N", sort=["p50", "p95", "p99"]),
            y="slo_ms:Q",
            tooltip=[alt.Tooltip("slo_ms:Q", title="SLO ms")],
        )
    )
    return alt.layer(bars, ticks).properties(height=260)


def _scenario_axis(count: int) -> dict:
    """Scenarios down the side: a long name is never dropped or cut as it is under a crowded x axis."""
    return {
        "y": alt.Y("scenario:N", title=None, sort=None, axis=alt.Axis(labelLimit=260, labelOverlap=False)),
        "height": max(90, 38 * count),
    }


def cost_by_node(frame: pd.DataFrame, colours: alt.Scale | None = None) -> alt.Chart:
    """Monthly cost stacked by node, one bar per scenario (beside the p99 bars). `frame`: scenario, node, monthly."""
    side = _scenario_axis(frame["scenario"].nunique())
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=side["y"],
            x=alt.X("sum(monthly):Q", title="cost per month (USD)", axis=alt.Axis(format="$,.0f")),
            color=alt.Color(
                "node:N", title="node", scale=colours or alt.Undefined, legend=alt.Legend(orient="bottom")
            ),
            tooltip=["scenario:N", "node:N", alt.Tooltip("monthly:Q", format="$,.2f")],
        )
        .properties(height=side["height"])
    )


def series_chart(
    frame: pd.DataFrame,
    title: str,
    unit: str,
    peak: pd.Timestamp | None,
    incidents: list[tuple[pd.Timestamp, pd.Timestamp]],
    zoom=None,
    colours: alt.Scale | None = None,
) -> alt.Chart:
    """One or more observed series over time, with incidents shaded and the peak hour marked.

    `frame`: timestamp, label, value.
    """
    line = (
        alt.Chart(frame)
        .mark_line(strokeWidth=1.2)
        .encode(
            x=alt.X("timestamp:T", title=None),
            y=alt.Y("value:Q", title=unit),
            color=alt.Color(
                "label:N", title=None, legend=alt.Legend(orient="top"), scale=colours or alt.Undefined
            ),
            tooltip=[
                alt.Tooltip("timestamp:T", format="%a %d %b %H:%M"),
                "label:N",
                alt.Tooltip("value:Q", format=",.1f"),
            ],
        )
    )
    if zoom is not None:
        line = line.add_params(zoom)
    layers = []
    if incidents:
        spans = pd.DataFrame(
            {
                "start": [a for a, _ in incidents],
                "end": [b for _, b in incidents],
                "what": ["incident"] * len(incidents),
            }
        )
        layers.append(
            alt.Chart(spans)
            .mark_rect(color="#fecaca", opacity=0.6, clip=True)
            .encode(
                x="start:T",
                x2="end:T",
                tooltip=[
                    alt.Tooltip("start:T", format="%a %d %b %H:%M"),
                    alt.Tooltip("end:T", format="%H:%M"),
                    "what:N",
                ],
            )
        )
    layers.append(line)
    if peak is not None:
        mark = pd.DataFrame({"timestamp": [peak], "label": [f"peak {peak:%a %H:%M}"]})
        layers += [
            alt.Chart(mark).mark_rule(color="#7c3aed", strokeDash=[4, 3], clip=True).encode(x="timestamp:T"),
            alt.Chart(mark)
            .mark_text(align="left", dx=4, color="#7c3aed", fontSize=11, clip=True)
            .encode(x="timestamp:T", y=alt.value(8), text="label:N"),
        ]
    return alt.layer(*layers).properties(title=title, height=200)


def observed_panels(
    panels: list[tuple[pd.DataFrame, str, str]],
    peak: pd.Timestamp | None,
    incidents: list[tuple[pd.Timestamp, pd.Timestamp]],
    overlay: pd.DataFrame | None = None,
    width: int = 720,
    colours: alt.Scale | None = None,
) -> alt.VConcatChart:
    """Observed series stacked on one time axis that zooms and pans together (drag, wheel; double-click resets).

    `panels`: (frame of timestamp, label, value; title; unit) per chart. `overlay`: a node's CPU
    (timestamp, label, value in %) drawn over the first panel on its own right-hand axis.
    One interval selection bound to the x scales, shared by every panel, is what dashboards do.
    `width` is in pixels: Vega-Lite cannot stretch the panels of a concatenation to a container.
    """
    zoom = alt.selection_interval(encodings=["x"], bind="scales", name="zoom")
    charts = []
    for k, (frame, title, unit) in enumerate(panels):
        chart = series_chart(
            frame, title, unit, peak, incidents, zoom=zoom, colours=colours if unit == "CPU %" else None
        )
        if k == 0 and overlay is not None and len(overlay):
            cpu = (
                alt.Chart(overlay)
                .mark_line(strokeWidth=1.2, color="#ea580c", strokeDash=[3, 2])
                .encode(
                    x="timestamp:T",
                    y=alt.Y("value:Q", title="CPU %", axis=alt.Axis(orient="right", titleColor="#ea580c")),
                    tooltip=[
                        alt.Tooltip("timestamp:T", format="%a %d %b %H:%M"),
                        "label:N",
                        alt.Tooltip("value:Q", format=",.1f"),
                    ],
                )
            )
            chart = alt.layer(chart, cpu).resolve_scale(y="independent").properties(title=title)
        charts.append(chart.properties(width=width))
    with (
        warnings.catch_warnings()
    ):  # one parameter in several views is the point: Altair lists them in its `views`
        warnings.filterwarnings("ignore", message="Automatically deduplicated selection parameter")
        return alt.vconcat(*charts).resolve_scale(x="shared", color="independent")


def compare_bars(
    frame: pd.DataFrame, field: str, title: str, fmt: str, target: float | None = None
) -> alt.Chart:
    """One bar per scenario for one number (p99, cost...), with an optional target line."""
    side = _scenario_axis(frame["scenario"].nunique())
    bars = (
        alt.Chart(frame)
        .mark_bar(color="#3b82f6")
        .encode(
            y=side["y"],
            x=alt.X(f"{field}:Q", title=title, axis=alt.Axis(format=fmt)),
            tooltip=["scenario:N", alt.Tooltip(f"{field}:Q", format=fmt)],
        )
    )
    layers = [bars]
    if target:
        layers.append(
            alt.Chart(pd.DataFrame({"t": [target]}))
            .mark_rule(color="#c62828", strokeDash=[6, 4])
            .encode(x="t:Q")
        )
    return alt.layer(*layers).properties(height=side["height"])


def observed_vs_predicted(frame: pd.DataFrame, title: str) -> alt.Chart:
    """Observed and predicted side by side, over the window (mean) and in its busy hour, for one quantity.

    `frame`: when, series (observed | predicted), value, unit (one unit).
    """
    unit = str(frame["unit"].iloc[0]) if len(frame) else ""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("when:N", title=None, sort=["mean", "busy hour"], axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("series:N", sort=["observed", "predicted"]),
            y=alt.Y("value:Q", title=unit),
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=["observed", "predicted"], range=["#6b7280", "#f59e0b"]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=["when:N", "series:N", alt.Tooltip("value:Q", format=",.2f", title=unit)],
        )
        .properties(height=230, title=title)
    )
