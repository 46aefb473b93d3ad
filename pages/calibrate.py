"""Calibrate: how well a scenario reproduces what was observed, node by node."""

import altair as alt
import streamlit as st

from app_support import cached, observe, sources, state
from app_support.sidebar import setup
from app_support.views import connector_error, scenario_error

setup()

try:
    scenario = cached.baseline()
except Exception as exc:
    scenario_error(exc)
    st.stop()

st.title("Calibrate")
fit = st.session_state.get(state.FIT_YAML)
demo_path = str(state.scenario().path) if state.scenario().origin == "folder" else ""
if fit is None:
    fit = {"yaml": sources.demo_fit_yaml(scenario, demo_path), "folder": "", "endpoint": ""}
    st.caption("Using the demo data (pick another source on Observe).")

with st.spinner("Fetching the observed series…"):
    try:
        frame, report, _warnings = sources.fetch(fit["yaml"], fit["folder"], fit["endpoint"])
    except Exception as exc:
        connector_error(exc)
        st.stop()
st.caption(f"Observed: {report}.")

try:
    import model.fit  # noqa: F401
    fit_ready = True
except ImportError:
    fit_ready = False
if not fit_ready:
    st.info("The fit (model/fit.py, estimating service times and hit ratios from these series) is pending in this "
            "build. Meanwhile this page checks the scenario you have open against what was observed: each node's "
            "CPU as the scenario predicts it at every observed load, and the end-to-end p99.",
            icon=":material/hourglass_top:")

period = 300
scenario_json = scenario.model_dump_json()
at_rate = cached.quick_results(scenario_json)
curve = cached.latency_curve(scenario_json)
pairs = observe.predicted_vs_observed(frame, period, {n: s.utilization for n, s in at_rate.nodes.items()},
                                      at_rate.rate_rps, curve[curve["percentile"] == "p99"])
if not len(pairs):
    st.warning("No CPU or latency series to compare: map them to nodes on Observe.", icon=":material/warning:")
    st.stop()
latency = observe.rate_frame(frame, "latency", period)
spans = observe.incidents(latency) if len(latency) else []
table = observe.errors(pairs, spans)

st.subheader(f"{scenario.name} against the observations")
st.caption("Background CPU (the OS, agents) is not part of the scenario, so a small positive bias on observed CPU is "
           "expected; incidents are left out of the errors.")
st.dataframe(table, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.1f") for c in
                            ("observed (mean)", "predicted (mean)", "bias", "mean abs error")}
             | {"error %": st.column_config.ProgressColumn("error %", format="%.0f%%", min_value=0, max_value=100)})

nodes = list(pairs["node"].unique())
choice = st.segmented_control("Node", nodes, default=nodes[0], key="cal-node") or nodes[0]
part = pairs[pairs["node"] == choice]
unit = part["unit"].iloc[0]
long = part.melt(id_vars=["timestamp"], value_vars=["observed", "predicted"], var_name="what", value_name="value")
long = long[long["value"] < 1e9]
chart = alt.Chart(long).mark_line(strokeWidth=1.2).encode(
    x=alt.X("timestamp:T", title=None), y=alt.Y("value:Q", title=unit),
    color=alt.Color("what:N", title=None, scale=alt.Scale(range=["#6b7280", "#f59e0b"]), legend=alt.Legend(orient="top")),
    tooltip=[alt.Tooltip("timestamp:T", format="%a %d %b %H:%M"), "what:N", alt.Tooltip("value:Q", format=",.1f")]
).properties(height=260, title=f"{choice}: observed and predicted")
scatter = alt.Chart(part[part["predicted"] < 1e9]).mark_circle(size=12, opacity=0.4).encode(
    x=alt.X("observed:Q", title=f"observed ({unit})"), y=alt.Y("predicted:Q", title=f"predicted ({unit})"),
    tooltip=[alt.Tooltip("timestamp:T", format="%a %d %b %H:%M"), alt.Tooltip("observed:Q", format=",.1f"),
             alt.Tooltip("predicted:Q", format=",.1f")]).properties(height=260, title="each 5 minutes")
top = float(max(part["observed"].max(), part[part["predicted"] < 1e9]["predicted"].max()))
diagonal = alt.Chart(alt.Data(values=[{"v": 0}, {"v": top}])).mark_line(color="#c62828", strokeDash=[4, 3]).encode(
    x="v:Q", y="v:Q")
left, right = st.columns([2, 1])
left.altair_chart(chart, width="stretch")
right.altair_chart(scatter + diagonal, width="stretch")
