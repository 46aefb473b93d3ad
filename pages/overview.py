"""Overview: the service graph, the headline numbers, and where the data comes from."""

import streamlit as st

from streamlit_ui import cached, state
from streamlit_ui.sidebar import setup
from streamlit_ui.views import RESET_HINT, graph_dot, headline, legend, md, scenario_or_stop
from model.planning.report import ms
from streamlit_ui import narrow, story
from streamlit_ui.views import plural

setup()

scenario = scenario_or_stop(cached.current, RESET_HINT)

results = cached.quick_results(scenario.model_dump_json())
bottleneck = cached.bottleneck(results)

st.title(md(scenario.name))
if scenario.description:
    st.caption(md(scenario.description))  # as text: a Markdown image would make the browser fetch it

runway = cached.runway(scenario.model_dump_json(), scenario.workload.horizon_months)["runway_months"]
headline(results, scenario, "beyond" if runway is None else runway)
story.stretch_table(scenario)  # runway and saturation side by side, each on its assumption
target = state.headroom_pct() / 100.0

method = "analytic solver (queueing theory), confirmed by simulation on What-if"
load = f"{results.rate_rps:,.0f} requests/s" + (
    f" (from {results.closed.users:,} concurrent users)" if results.closed is not None else ""
)
st.caption(f"At {load}, by {method}. Data source: {state.source_text()}.")

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Service graph")
    narrow.style()
    st.container(key=narrow.GRAPH_KEY).graphviz_chart(
        graph_dot(scenario, results, bottleneck, target), width="stretch"
    )
    st.markdown(legend(target) + " &nbsp; red outline: the bottleneck", unsafe_allow_html=True)
with right:
    st.subheader("Where the time goes")
    busiest = results.nodes[bottleneck]
    headroom = cached.saturation_rps(scenario.model_dump_json())
    st.markdown(
        f"**{md(bottleneck)}** is the busiest node at **{100 * busiest.utilization:.0f}%** of its "
        f"{plural(busiest.servers, 'server')}. With the replicas as set, the graph saturates at about "
        f"**{headroom:,.0f} requests/s**, {headroom / results.rate_rps:,.1f}× today's load."
        if results.rate_rps and headroom < float("inf")
        else f"**{md(bottleneck)}** is the busiest node."
    )
    story.overview_banner(scenario, results, target)
    lat = results.latency_ms
    slo = scenario.slo
    st.markdown(
        f"Latency: p50 **{ms(lat.p50)}**, p95 **{ms(lat.p95)}**"
        + (f" (SLO {ms(slo.p95_ms)})" if slo.p95_ms else "")
        + f", p99 **{ms(lat.p99)}**"
        + (f" (SLO {ms(slo.p99_ms)})" if slo.p99_ms else "")
        + "."
    )

# below both columns, the whole width: in the right column its busy and wait columns were cut off
st.divider()
rows = [
    {
        "node": n,
        "kind": scenario.nodes[n].kind,
        "arrivals": f"{s.arrival_rps:,.1f}/s",
        "servers": s.servers,
        "busy": s.utilization,
        "mean wait": ms(s.mean_wait_ms),
    }
    for n, s in results.nodes.items()
]
st.subheader("Per node")
st.dataframe(
    rows,
    hide_index=True,
    width="stretch",
    column_config={
        "busy": st.column_config.ProgressColumn(
            "busy", format="percent", min_value=0, max_value=1, width="medium"
        ),
    },
)
