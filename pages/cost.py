"""Cost (finance's page): spend month by month by node, commitments compared, a budget line, exports."""

import pandas as pd
import streamlit as st

from streamlit_ui import cached, charts
from model.planning import spend
from streamlit_ui.sidebar import setup
from streamlit_ui.views import RESET_HINT, scenario_or_stop
from model.planning.report import money

setup()

scenario = scenario_or_stop(cached.current, RESET_HINT)


@st.cache_data(max_entries=32, show_spinner=False)
def _spend(scenario_json: str, months: int) -> pd.DataFrame:
    from model.scenario.schema import Scenario

    return spend.monthly_spend(Scenario.model_validate_json(scenario_json), months)


st.title("Cost")
st.caption(
    f"{scenario.name}: today's configuration over the next months as load grows "
    f"{scenario.workload.growth_pct_per_month:g}% a month; {scenario.pricing.provider} "
    f"{scenario.pricing.region} list prices (data/prices.csv), 730 hours a month."
)

c1, c2, c3 = st.columns([1, 1.5, 0.9])
months = c1.slider("Horizon (months)", 1, 36, scenario.workload.horizon_months, key="cost-months")
SHORT = {
    "on_demand": "on demand",
    "1yr": "1 year",
    "3yr": "3 years",
}  # fits 390 px ("3-year commitment" was clipped)
commitment = (
    c2.segmented_control(
        "Pricing (commitment)",
        list(spend.COMMITMENTS),
        default=scenario.pricing.commitment,
        format_func=SHORT.get,
        key="cost-commitment",
    )
    or scenario.pricing.commitment
)
frame = _spend(scenario.model_dump_json(), months)
chosen = frame[frame["commitment"] == commitment]
first_total = chosen[chosen["month"] == 0]["monthly"].sum()
budget = c3.number_input(
    "Monthly budget (USD)",
    min_value=0.0,
    value=float(round(first_total * 1.25, -2)),
    step=100.0,
    format="%.0f",
    key="cost-budget",
    help="Drawn as a red line; months above it are flagged.",
)

total = chosen.groupby("month")["monthly"].sum()
per_m = chosen.groupby("month")["per_million"].sum()
k1, k2, k3, k4 = st.columns(4)
k1.metric("This month", money(total.iloc[0]), border=True)
k2.metric(
    f"Month {months}",
    money(total.iloc[-1]),
    f"{money(total.iloc[-1] - total.iloc[0])} vs now",
    delta_color="inverse",
    border=True,
)
k3.metric(f"Total over {months + 1} months", money(total.sum()), border=True)
k4.metric(
    "Per million requests",
    money(per_m.iloc[0]),
    f"{money(per_m.iloc[-1])} in month {months}",
    delta_color="off",
    delta_arrow="off",
    border=True,
    help="The bill divided by the requests served that month.",
)

over = total[total > budget] if budget else total.iloc[0:0]
if len(over):
    st.warning(
        f"Over budget from month {over.index[0]} ({money(over.iloc[0])} > {money(budget)}).",
        icon=":material/warning:",
    )

st.altair_chart(
    charts.monthly_spend(
        chosen[["month", "node", "monthly"]], budget or None, charts.node_colours(list(scenario.nodes))
    ),
    width="stretch",
)
marked = chosen[chosen["price"] != "listed"].drop_duplicates("node")
if len(marked):
    st.caption(
        "Not in the price catalog: "
        + ", ".join(marked["node"])
        + ". An estimated price is scaled from listed sizes of the same family (data/PRICES.md); "
        "an unknown one is left out of every total here."
    )

ahead = cached.runway(scenario.model_dump_json(), months)
runway = ahead["runway_months"]
st.caption(
    "Autoscaled nodes are billed for the mean replicas their HPA runs over a day at each month's peak. "
    + (
        "The SLO holds over the whole horizon."
        if runway is None
        else f"From month {runway} this configuration misses the SLO ({ahead['bottleneck'] or 'a node'} "
        "gives out first): see Right-size for what it would take."
    )
)

st.subheader("On demand or committed")
wide = spend.totals(frame)
savings = {c: wide[c].sum() for c in spend.COMMITMENTS if c in wide}
cols = st.columns(3)
for col, (c, label) in zip(cols, spend.COMMITMENTS.items()):
    saved = savings["on_demand"] - savings[c]
    col.metric(
        label,
        money(savings[c]),
        f"saves {money(saved)}" if saved > 0.005 else None,
        delta_color="normal",
        border=True,
        help=f"Total over months 0 to {months}.",
    )

table = wide.rename(columns={"rate_rps": "load (req/s)", **spend.COMMITMENTS})
st.dataframe(
    table.style.format(money, subset=list(spend.COMMITMENTS.values())).format(
        "{:,.1f}", subset=["load (req/s)"]
    ),
    hide_index=True,
    width="stretch",
)

by_node = chosen.pivot_table(index="month", columns="node", values="monthly", aggfunc="sum").reset_index()
by_node.columns.name = None
name = scenario.name.lower().replace(" ", "-")
d1, d2 = st.columns(2)
d1.download_button(
    "Download CSV",
    frame.to_csv(index=False),
    file_name=f"{name}-spend.csv",
    mime="text/csv",
    icon=":material/download:",
    key="cost-csv",
)
d2.download_button(
    "Download Excel",
    spend.excel_bytes({"totals": table, f"by node ({commitment})": by_node, "detail": frame}),
    file_name=f"{name}-spend.xlsx",
    icon=":material/table_view:",
    key="cost-xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
