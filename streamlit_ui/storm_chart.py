"""The load through time of a burst (and a retry storm) as one chart; plain Altair, no Streamlit.

Requests sent, attempts offered with retries, goodput and errors per second against the system's
capacity, the burst shaded: a storm shows as offered load staying above the capacity line with
goodput on the floor after the shading ends; a recovery as the lines meeting again.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

SERIES = {  # LoadSeries field -> legend label
    "requests_rps": "requests sent",
    "offered_rps": "offered, retries included",
    "goodput_rps": "goodput (answered in time)",
    "errors_rps": "errors after the last attempt",
}
COLOURS = alt.Scale(domain=list(SERIES.values()), range=["#6b7280", "#f58518", "#2e7d32", "#c62828"])


def frame(series: dict) -> pd.DataFrame:
    """Long rows (t_s, series, rps) from a load_test `timeline` (model.queueing.sim.series.LoadSeries JSON)."""
    rows = []
    for key, label in SERIES.items():
        for start, value in zip(series["start_s"], series[key]):
            rows.append({"t_s": start, "series": label, "rps": value})
    return pd.DataFrame(rows)


def through_time(series: dict, capacity_rps: float, burst: tuple[float, float] | None) -> alt.LayerChart:
    """The four rates through time, the capacity as a rule and the burst (start_s, end_s) shaded."""
    data = frame(series)
    x = alt.X("t_s:Q", title="time (s)")
    layers = []
    if burst is not None:
        shade = pd.DataFrame({"start": [burst[0]], "end": [burst[1]], "label": ["burst"]})
        layers += [
            alt.Chart(shade).mark_rect(color="#fde68a", opacity=0.5).encode(x="start:Q", x2="end:Q"),
            alt.Chart(shade)
            .mark_text(align="left", dx=3, color="#92400e", fontSize=11)
            .encode(x="start:Q", y=alt.value(10), text="label:N"),
        ]
    layers.append(
        alt.Chart(data)
        .mark_line(strokeWidth=2, interpolate="step-after")
        .encode(
            x=x,
            y=alt.Y("rps:Q", title="per second"),
            color=alt.Color(
                "series:N",
                scale=COLOURS,
                title=None,
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=260),
            ),
            tooltip=[
                alt.Tooltip("t_s:Q", title="from (s)", format=",.1f"),
                "series:N",
                alt.Tooltip("rps:Q", title="per second", format=",.1f"),
            ],
        )
    )
    if math.isfinite(capacity_rps):
        cap = pd.DataFrame({"rps": [capacity_rps], "label": [f"capacity {capacity_rps:,.0f}/s"]})
        layers += [
            alt.Chart(cap).mark_rule(color="#111827", strokeDash=[5, 3]).encode(y="rps:Q"),
            alt.Chart(cap)
            .mark_text(align="left", dx=4, dy=-6, color="#111827", fontSize=11)
            .encode(y="rps:Q", x=alt.value(0), text="label:N"),
        ]
    return alt.layer(*layers)
