"""The Cost page's month-by-month chart: the bill stacked by node, and what makes a month not a plan.

A month that misses the SLO is billed for a system that does not cope; drawn like any
other month, its bar reads as a plan. Here those months sit on a red band labelled
"SLO missed", their bars are faded and outlined in red, and the first of them carries a
rule with its reason, so the chart alone tells a finance reader which bills to ignore.
The budget is a dashed red line; the growth band (when the growth is uncertain) is a thin
range on each month's total. Plain functions from frames to charts (no Streamlit).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

MISSED_RED = "#c62828"


def spend_by_month(
    by_node: pd.DataFrame,
    months: pd.DataFrame,
    budget_usd: float | None,
    colours: alt.Scale | None = None,
) -> alt.LayerChart:
    """`by_node`: label, node, monthly (USD). `months`: label, total, slo_met, and optionally low, high
    (the growth band of the total), in month order. Labels are the x axis (calendar months)."""
    order = list(months["label"])
    x = alt.X("label:N", title=None, sort=order, axis=alt.Axis(labelAngle=-45 if len(order) > 8 else 0))
    missed = months[~months["slo_met"].astype(bool)]
    stacked = by_node.merge(months[["label", "slo_met"]], on="label", how="left")
    stacked["plan"] = stacked["slo_met"].map({True: "SLO met", False: "SLO missed"})
    highs = (
        pd.to_numeric(months["high"], errors="coerce").dropna()
        if "high" in months
        else pd.Series(dtype=float)
    )
    top = max(float(months["total"].max()), float(highs.max()) if len(highs) else 0.0, budget_usd or 0.0)
    y_title = "bill per month (USD)"

    def y(field: str) -> alt.Y:
        return alt.Y(field, title=y_title, axis=alt.Axis(format="$,.0f"))

    layers: list[alt.Chart] = []
    if len(missed):
        band = missed.assign(top=top * 1.12, text="SLO missed")
        layers += [
            alt.Chart(band)
            .mark_bar(color=MISSED_RED, opacity=0.10, width={"band": 1.0})
            .encode(x=x, y=y("top:Q"), tooltip=[alt.Tooltip("label:N", title="month"), "text:N"]),
        ]
    layers.append(
        alt.Chart(stacked)
        .mark_bar()
        .encode(
            x=x,
            y=y("sum(monthly):Q"),
            color=alt.Color("node:N", title="node", scale=colours or alt.Undefined),
            opacity=alt.Opacity(
                "plan:N",
                scale=alt.Scale(domain=["SLO met", "SLO missed"], range=[1.0, 0.45]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("label:N", title="month"),
                "node:N",
                alt.Tooltip("monthly:Q", format="$,.2f", title="bill"),
                alt.Tooltip("plan:N", title="SLO"),
            ],
        )
    )
    if len(missed):
        layers.append(
            alt.Chart(missed)
            .mark_bar(fill=None, stroke=MISSED_RED, strokeWidth=2, strokeDash=[4, 2])
            .encode(x=x, y=y("total:Q"))
        )
        first = missed.iloc[[0]].assign(text=f"SLO missed from {missed.iloc[0]['label']}: not a plan")
        layers += [
            alt.Chart(first).mark_rule(color=MISSED_RED, strokeWidth=2).encode(x=x),
            alt.Chart(first)
            .mark_text(align="left", dx=4, y=8, color=MISSED_RED, fontWeight="bold")
            .encode(x=x, text="text:N"),
        ]
    if "low" in months and months["low"].notna().any():
        band = months.dropna(subset=["low", "high"])
        layers.append(
            alt.Chart(band)
            .mark_rule(color="#111827", strokeWidth=1.5)
            .encode(
                x=x,
                y=y("low:Q"),
                y2="high:Q",
                tooltip=[
                    alt.Tooltip("label:N", title="month"),
                    alt.Tooltip("low:Q", format="$,.2f", title="low growth"),
                    alt.Tooltip("high:Q", format="$,.2f", title="high growth"),
                ],
            )
        )
    if budget_usd:
        line = pd.DataFrame({"budget": [budget_usd], "text": [f"budget ${budget_usd:,.0f}"]})
        layers += [
            alt.Chart(line)
            .mark_rule(color=MISSED_RED, strokeDash=[6, 4], strokeWidth=2)
            .encode(y=y("budget:Q")),
            alt.Chart(line)
            .mark_text(align="left", x=4, dy=-6, color=MISSED_RED)
            .encode(y=y("budget:Q"), text="text:N"),
        ]
    return alt.layer(*layers).properties(height=340)
