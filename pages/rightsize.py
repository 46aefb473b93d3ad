"""Right-size (the engineer's page): the recommender against today's setup, savings and risk, the YAML diff."""

import pandas as pd
import streamlit as st

from streamlit_ui import cached, confirm, cost_record, fitted_note, risk_view, state
from streamlit_ui.sidebar import setup
from streamlit_ui.scenarios import applied_text, slug, yaml_diff
from streamlit_ui.views import RESET_HINT, md, scenario_or_stop
from model.planning.load import planning_rate
from model.planning.report import money, ms

setup()

scenario = scenario_or_stop(cached.current, RESET_HINT)


def _plain(value) -> str:
    """`4.0` -> `4`: the number as a person would write it in the YAML."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


st.title("Right-size")
st.caption(
    "The cheapest configuration whose simulation meets the SLO, searched from the price catalog, "
    "against what the scenario runs today (what-if changes included)."
)


c1, c2, c3 = st.columns([2, 1, 1])
horizon = scenario.workload.horizon_months
months = c1.select_slider(
    "Plan for the load in",
    options=list(range(0, horizon + 1)),
    value=0,
    key="rs-months",
    format_func=lambda m: "today" if m == 0 else f"{m} month{'s' if m > 1 else ''}",
)
rate = planning_rate(scenario, months)  # a closed workload: its users' throughput that month
c2.metric("Load planned for", f"{rate:,.0f} req/s", border=True)
cost_record.metric(c3, scenario)  # today's setup, the cost of record as on every page
rules = risk_view.settings(scenario)  # headroom target, zone loss, a declared peak

pool = cached.pool()
ready = pool.answer(confirm.recommend_key(scenario, months, rules)) is not None
if not ready and not st.button(
    "Find the cheapest configuration", type="primary", icon=":material/search:", key="rs-go"
):
    st.caption("Takes a few seconds: the queueing formulas search, then the best candidates are simulated.")
    st.stop()

answer = confirm.recommend(scenario, months, risk=rules)
if answer is None:
    st.stop()

changes = answer["changes"]
saving = answer["baseline_monthly"] - answer["monthly"]
risk = answer.get("risk", {})
k1, k2, k3, k4 = st.columns(4)
k1.metric("Recommended, per month", money(answer["monthly"]), border=True)
k2.metric(
    "Today, per month",
    money(answer["baseline_monthly"]),
    (None if (answer.get("baseline_slo") or {}).get("met", True) else "misses the SLO"),
    delta_color="inverse",
    delta_arrow="off",
    border=True,
)
k3.metric(
    "Saving per month" if saving >= 0 else "Extra cost per month",
    money(abs(saving)),
    f"{money(12 * abs(saving))} a year",
    delta_color="normal" if saving >= 0 else "inverse",
    delta_arrow="off",
    border=True,
)
k4.metric(
    "p99 (simulated)",
    ms(answer["latency_ms"]["p99"]),
    f"{risk.get('slo_headroom_pct', 0):.0f}% inside the SLO target" if risk else None,
    delta_color="normal",
    delta_arrow="off",
    border=True,
)
fitted_note.show(scenario)

risk_view.verdict(answer)  # one banner, the grade and why, today's risk, the cheaper option not offered

left, right = st.columns([1, 1.3], gap="large")
with left:
    st.subheader("Changes")
    if not changes:
        st.write("None: today's setup is already the cheapest that meets the SLO.")
    else:
        data = scenario.model_dump()
        lines = []
        for path, value in changes.items():
            now = data
            for part in path.split("."):
                now = now.get(part) if isinstance(now, dict) else None
            lines.append(f"- `{path}`: {md(_plain(now))} → **{md(_plain(value))}**")
        st.markdown("\n".join(lines))  # a list wraps where a table of long key paths was cut off
        if st.button("Try it on What-if", icon=":material/science:", key="rs-apply"):
            risk_view.try_on_whatif(changes)  # opens What-if with the option applied
    if answer.get("runners_up"):
        st.subheader("Runners-up")
        st.table(
            pd.DataFrame(
                [
                    {
                        "per month": money(r["monthly"]),
                        "p99": ms(r["latency_ms"]["p99"]) if r.get("latency_ms") else "—",
                        "SLO": {True: "met", False: "missed"}.get(r.get("slo_met"), "—"),
                        "risk": risk_view.runner_risk(r),
                        "changes": "; ".join(
                            f"{k.removeprefix('nodes.')} = {_plain(v)}" for k, v in r["changes"].items()
                        )
                        or "(none)",
                    }
                    for r in answer["runners_up"]
                ]
            ).set_index("per month")
        )
    for note in answer.get("notes", []):
        st.caption(note)
with right:
    st.subheader("The YAML diff to apply")
    current_text = applied_text(state.scenario().text, state.changes())
    recommended_text = applied_text(current_text, changes)
    diff = yaml_diff(current_text, recommended_text, f"{state.scenario().name}.yaml")
    st.code(diff or "# no change", language="diff")
    st.download_button(
        "Download the recommended scenario",
        recommended_text,
        file_name=f"{slug(state.scenario().name)}-rightsized.yaml",
        mime="application/x-yaml",
        icon=":material/download:",
        key="rs-download",
        type="primary",
    )
