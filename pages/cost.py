"""Cost (finance's page): the cost of record month by month, what misses the SLO, commitments, budget, exports."""

import json

import streamlit as st

from streamlit_ui import cached, charts, cost_charts, cost_controls, cost_record, cost_view
from streamlit_ui.sidebar import setup
from streamlit_ui.views import RESET_HINT, md, node_cost_label, price_caveat, scenario_or_stop
from streamlit_ui.scenarios import slug
from model.planning.bill import default_baseline
from model.planning.commitments import TERMS
from model.planning.growth import growth_in_use
from model.planning.report import money

setup()

scenario = scenario_or_stop(cached.current, RESET_HINT)

st.title("Cost")
st.caption(f"**Cost of record.** {cost_record.definition()}")

c1, c2, c3, c4 = st.columns([1.1, 1.4, 1, 1])
months = cost_controls.horizon(c1, scenario.workload.horizon_months)
commitment = cost_controls.commitment(c2, scenario.pricing.commitment)
given = growth_in_use(scenario)
override = cost_controls.growth(c3, given.pct_per_month, given.source)
scenario_json = scenario.model_dump_json()
defaults = default_baseline(scenario, commitment if commitment != "on_demand" else "1yr")
with st.expander("Commitment baseline (units per node)", icon=":material/lock_clock:"):
    st.caption(
        "A 1- or 3-year commitment buys these units of each node for every hour of its term, used or not; "
        "usage above them is billed on demand."
    )
    baseline = cost_controls.baseline(st.container(), defaults)
baseline_json = json.dumps(baseline, sort_keys=True)
first = cost_view.ledger(scenario_json, 1, commitment, baseline_json, None, override).months[0].bill
budget = cost_controls.budget(c4, float(max(100.0, round(first.monthly_usd * 1.25, -2))))

with st.spinner(f"Billing {months} months hour by hour…"):  # a second or two the first time
    ledger = cost_view.ledger(scenario_json, months, commitment, baseline_json, budget or None, override)
    growth = ledger.growth
    labels = cost_view.month_names(ledger)
    band = (
        cost_view.band_totals(scenario_json, months, commitment, baseline_json, *growth.band_pct)
        if growth.source == "fitted" and growth.band_pct
        else None
    )
now, last = ledger.months[0], ledger.months[-1]
n = len(ledger.months)

# ---- the headline: this month, the horizon, and what is not a plan
k1, k2, k3, k4 = st.columns(4)
k1.metric(
    cost_record.LABEL,
    money(now.bill.monthly_usd),
    f"{labels[0]} · not a plan" if not now.verdict.copes else labels[0],
    delta_color="inverse" if not now.verdict.copes else "off",
    delta_arrow="off",
    border=True,
    help=cost_record.definition(),
)
change = last.bill.monthly_usd - now.bill.monthly_usd
k2.metric(
    f"{labels[-1]} (month {last.month})" if n > 1 else "Last month shown",
    money(last.bill.monthly_usd),
    f"{'+' if change >= 0 else '-'}{money(abs(change))}"
    + (" vs this month" if last.verdict.copes else " · not a plan"),
    delta_color="inverse",
    delta_arrow="off" if not last.verdict.copes else "auto",
    border=True,
    help=None if last.verdict.copes else last.verdict.message,
)
k3.metric(
    f"Total over {n} month{'s' if n != 1 else ''}",
    money(ledger.total_usd),
    f"{labels[0]} to {labels[-1]}" if n > 1 else labels[0],
    delta_color="off",
    delta_arrow="off",
    border=True,
    help=f"The bills of months 0 to {n - 1} ({labels[0]} to {labels[-1]}), at the pricing chosen.",
)
k4.metric(
    "Per million requests",
    cost_view.per_million(now),
    "saturated: not served"
    if now.verdict.saturated
    else f"{cost_view.per_million(last)} in {labels[-1]}" + (" (saturated)" if last.verdict.saturated else "")
    if n > 1
    else None,
    delta_color="inverse" if now.verdict.saturated else "off",
    delta_arrow="off",
    border=True,
    help="The month's bill divided by the requests it serves: the mean rate over the month's daily and "
    "weekly shape x 730 hours (not the peak all month). None for a saturated month: it does not serve them.",
)

bad = [(label, m) for label, m in zip(labels, ledger.months) if not m.verdict.copes]
if bad:
    label0, m0 = bad[0]
    st.error(
        f"**{len(bad)} of {n} months {'is' if len(bad) == 1 else 'are'} not a plan** (from {label0}): "
        f"{md(m0.verdict.message)}. "
        "Their bars are faded on a red ground below; see Right-size for what it would take.",
        icon=":material/error:",
    )
if budget:
    over = ledger.first_over_budget
    if over is not None:
        st.warning(
            f"**Over budget from {labels[over.month]}** (month {over.month}): "
            f"{cost_record.dollars(money(over.bill.monthly_usd))} > {cost_record.dollars(money(budget))} a month.",
            icon=":material/warning:",
        )
    else:
        (st.warning if bad else st.success)(
            f"Within the {cost_record.dollars(money(budget))} monthly budget in all {n} months"
            + (
                f", but {len(bad)} of those bills are for a system that does not cope: meeting the SLO "
                "would cost more."
                if bad
                else "."
            ),
            icon=":material/warning:" if bad else ":material/check_circle:",
        )
st.caption(
    f"Load {md(growth.sentence())}"
    + (f"; the scenario's own is {given.pct_per_month:g}% ({given.source})." if override is not None else ".")
    + (" The thin black range on each bar is the bill at the ends of the fit's 90% band." if band else "")
    + f" {scenario.pricing.provider} {scenario.pricing.region} list prices as of {ledger.price_as_of}."
)

by_node, by_month = cost_view.chart_frames(ledger, labels, band)
st.altair_chart(
    cost_charts.spend_by_month(by_node, by_month, budget or None, charts.node_colours(list(scenario.nodes))),
    width="stretch",
)
marked = [
    node_cost_label(now.bill.cost, n)
    for n, b in now.bill.nodes.items()
    if b.price in ("estimated", "unknown")
]
if marked:
    st.caption(
        f"Not in the price catalog: {md(', '.join(marked))}. An estimated price is scaled from listed sizes "
        "of the same family (data/PRICES.md); an unknown one is left out of every total here."
    )
price_caveat(now.bill.cost)

st.dataframe(
    cost_view.not_a_plan_rows(cost_view.table(ledger, labels, band)), hide_index=True, width="stretch"
)

# ---- commitments as finance buys them
st.subheader("Commitments over their full term")
with st.spinner("Pricing the 12- and 36-month terms…"):
    terms = cost_view.plans(scenario_json, growth.pct_per_month, baseline_json)
cols = st.columns(len(TERMS))
for col, (term, plan) in zip(cols, terms["plans"].items()):
    saved = plan.savings_usd
    with col.container(border=True):
        st.metric(
            f"{plan.term_months}-month ({term}) commitment"
            + (" · the pricing above" if term == commitment else ""),
            money(abs(saved)),
            f"{'saved' if saved >= 0 else 'lost'} over the {plan.term_months} months of the term",
            delta_color="normal" if saved >= 0 else "inverse",
            delta_arrow="off",
            help=f"All {plan.term_months} months on demand ({cost_record.dollars(money(plan.on_demand_usd))}) "
            f"minus the same months with the commitment ({cost_record.dollars(money(plan.with_commitment_usd))}), "
            "at the growth in use.",
        )
        brk = plan.break_even_month
        st.markdown(
            f"Coverage **{100 * plan.coverage:.0f}%** of the unit-hours used · utilization "
            f"**{100 * plan.utilization:.0f}%** of the committed hours · "
            + (
                "never pays for itself within the term"
                if brk is None
                else f"breaks even by the end of month {brk} ({cost_view.month_name(ledger, brk)})"
            )
            + ". Baseline: "
            + (", ".join(f"{md(k)} {v}" for k, v in plan.baseline_units.items()) or "none")
            + "."
        )
missed = terms["slo_missed_from"]
if missed is not None:
    st.caption(
        f"Today's configuration misses the SLO from month {missed} of a term: the later months' bills, "
        "and the savings over them, are for a system that does not cope."
    )

# ---- exports
plan = terms["plans"].get(commitment)
key = json.dumps([scenario_json, months, commitment, baseline_json, budget, override], sort_keys=True)
csv_text, xlsx = cost_view.exports(ledger, plan, key)
name = slug(scenario.name)
d1, d2, _ = st.columns([1, 1, 2])
d1.download_button(
    "Download CSV",
    csv_text,
    file_name=f"{name}-spend-{ledger.start_month}.csv",
    mime="text/csv",
    icon=":material/download:",
    key="cost-csv",
)
d2.download_button(
    "Download Excel",
    xlsx,
    file_name=f"{name}-spend-{ledger.start_month}.xlsx",
    icon=":material/table_view:",
    key="cost-xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
st.caption(
    "Both carry the calendar months, a totals row, a column per node and per commitment, each month's "
    "SLO verdict, and their assumptions (a header block in the CSV, a sheet in Excel)."
)
