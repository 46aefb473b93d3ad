"""Peak event: "3x today's load for a day: do we hold, what breaks first, what must we add, what does it cost?"."""

import streamlit as st

from model.planning.load import planning_rate
from streamlit_ui import peak_view, state
from streamlit_ui import cached
from streamlit_ui.sidebar import setup
from streamlit_ui.views import RESET_HINT, md, scenario_or_stop
from model.planning.peak import summary
from model.planning.report import money

setup()

scenario = scenario_or_stop(cached.current, RESET_HINT)
base = planning_rate(scenario)  # a closed workload: what its users send today

st.title("Peak event")
st.caption(
    "A sale, a launch, a news spike: the load ramps up to a multiple of the planning load, holds for "
    "days and decays, with the HPA acting (sync every 15 s, start-up of new pods, stabilization, min/max) "
    "and every other node fixed. The ramp is simulated; the rest of the plateau is its settled state."
)

event = peak_view.declared()
c1, c2, c3, c4 = st.columns(4)
factor = c1.number_input(
    "Peak, times the planning load",
    min_value=1.0,
    max_value=100.0,
    value=float(event["factor"]),
    step=0.5,
    key="pk-factor",
    help=f"The planning load is workload.rate_rps: {base:,.0f} req/s."
    if not scenario.workload.closed
    else f"The planning load is what the workload's {scenario.workload.users:,} users send today: "
    f"{base:,.0f} req/s (mean-value analysis).",
)
days = c2.number_input(
    "Days at the peak", min_value=0.05, max_value=31.0, value=float(event["days"]), step=0.5, key="pk-days"
)
ramp = c3.number_input(
    "Ramp up and down (minutes)",
    min_value=0.0,
    max_value=1440.0,
    value=float(event["ramp_minutes"]),
    step=5.0,
    key="pk-ramp",
    help="0 is a step: the whole peak arrives at once.",
)
target = c4.slider(
    "Target utilization (%)",
    min_value=50,
    max_value=100,
    value=75,
    step=5,
    key="pk-target",
    help="What to add keeps every node at or under this at the peak.",
)
peak_view.declare(factor, days, ramp)

result = peak_view.run(scenario, peak_view.declared(), target / 100.0)
if result is None:
    st.stop()

sentence = md(summary(result))
if not result.holds:
    st.error(sentence, icon=":material/error:")
elif result.additions.changes or result.additions.unfixable:
    st.warning(
        f"{sentence} But some node runs above {target}% at the peak: see what to add below.",
        icon=":material/warning:",
    )
elif result.verdict == "holds_with_autoscaling":
    st.success(sentence, icon=":material/autorenew:")
else:
    st.success(sentence, icon=":material/check_circle:")

node, sat_rps = result.first_to_saturate
quiet = {"delta_color": "off", "delta_arrow": "off", "border": True}
k1, k2, k3, k4 = st.columns(4)
k1.metric("Peak load (req/s)", f"{result.peak_rps:,.0f}", f"{factor:g}x {base:,.0f} req/s", **quiet)
if result.breaks is not None:
    k2.metric(
        "Breaks first",
        md(result.breaks.node),
        f"minute {int(result.breaks.minute)}, {result.breaks.factor:.2f}x",
        delta_color="inverse",
        delta_arrow="off",
        border=True,
        help=f"At {result.breaks.rate_rps:,.0f} req/s: {result.breaks.reason}",
    )
else:
    k2.metric(
        "First to saturate",
        md(node) or "nothing",
        f"at {sat_rps / base:.1f}x" if sat_rps != float("inf") else "never",
        help=f"The node that reaches 100% at the lowest load ({sat_rps:,.0f} req/s), autoscaled nodes at "
        "their HPA max.",
        **quiet,
    )
k3.metric(
    "Extra cost",
    money(result.cost.extra_usd),
    f"{result.cost.hours:,.1f} hours",
    help=f"The event's {result.cost.hours:,.1f} hours cost {money(result.cost.event_usd)}; the same hours on "
    f"normal days {money(result.cost.normal_usd)}. Dollars for those hours, not a monthly figure.",
    **quiet,
)
if result.scaling:
    name, most = max(result.scaling.items(), key=lambda kv: kv[1]["peak"] - kv[1]["before"])
    k4.metric(
        f"Replicas of {md(name)}", f"{most['before']} → {most['peak']}", f"HPA max {most['max']}", **quiet
    )
else:
    k4.metric("Autoscaling", "none", "fixed sizes", **quiet)

st.subheader("Through the event")
st.altair_chart(peak_view.chart(result, scenario.slo.p99_ms), width="stretch")
sim = result.simulated
held = (
    f" From minute {result.held[0]:,.0f} the plateau holds its settled state until minute {result.held[1]:,.0f} "
    "(extrapolated: the load is constant, nothing moves), then decays."
    if result.held is not None
    else ""
)
st.caption(
    f"Solid: simulated with the HPA acting (minutes {sim['from_minute']:,.0f} to {sim['to_minute']:,.0f}, "
    f"{sim['requests']:,} requests, seed {sim['seed']}); dashed: queueing theory at each minute's load. "
    f"Red rule: the SLO's p99, and the minute it breaks.{held}"
)

st.subheader("What to add before the event")
left, right = st.columns(2, gap="large")
for col, extra, title, key in (
    (left, result.additions, f"To stay at or under {target}%", "pk-apply"),
    (right, result.zone_additions, "… and survive losing one zone", "pk-apply-zone"),
):
    with col:
        st.markdown(f"**{title}**")
        st.markdown(peak_view.changes_markdown(scenario, extra.changes, extra.unfixable))
        if extra.changes and st.button("Apply on What-if", icon=":material/science:", key=key):
            state.set_scenario(state.scenario(), {**state.changes(), **extra.changes})
            st.switch_page("pages/whatif.py")
cost = result.cost.to_json()
st.caption(
    f"With these in place for the event's {result.cost.hours:,.1f} hours the extra cost is "
    f"{money(cost['extra_with_additions'])} (with the zone-loss additions {money(cost['extra_with_zone_additions'])})."
)
for note in result.notes:
    st.caption(md(note))
