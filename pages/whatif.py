"""What-if: move the knobs, see latency and cost at once (analytic), confirmed by simulation."""

import math

import pandas as pd
import streamlit as st

from streamlit_ui import (
    cached,
    charts,
    confirm,
    controls,
    cost_record,
    fitted_note,
    ramp_view,
    state,
    users_controls,
    users_view,
)
from streamlit_ui.sidebar import setup
from streamlit_ui.views import RESET_HINT, md, price_caveat, scenario_or_stop
from model.planning.report import ms
from streamlit_ui import narrow, story, storm_view
from streamlit_ui.views import latency_metric

setup()

base, scenario = scenario_or_stop(lambda: (cached.baseline(), cached.current()), RESET_HINT)

st.title("What-if")
auto = st.session_state.get("wi-auto-sim", True)
st.caption(
    "Move a knob: the numbers update at once from queueing theory, then a simulation confirms them. "
    "Changes go into the link (share it) and into the YAML you can download from the sidebar."
)

quick = cached.quick_results(scenario.model_dump_json())
before = cached.quick_results(base.model_dump_json())

lat, slo = quick.latency_ms, scenario.slo
narrow.style()
numbers = st.container(
    key=narrow.NUMBERS_KEY
)  # sticks to the top on a phone, so a knob's effect stays in view
c = numbers.columns(5)
for col, key in zip(c[:3], ("p50", "p95", "p99")):
    value = getattr(lat, key)
    target = getattr(slo, f"{key}_ms")
    text, delta, colour, arrow = latency_metric(
        value, getattr(before.latency_ms, key), target, bool(state.changes())
    )
    col.metric(
        f"{key} latency",
        text,
        delta,
        delta_color=colour,
        delta_arrow=arrow,
        border=True,
        help=f"SLO {ms(target)}" if target else "No SLO target for this percentile.",
    )
cost_record.metric(c[3], scenario, base, bool(state.changes()))  # the cost of record, as on every page
drops = max((k.drop_pct for k in quick.kafka.values()), default=0.0)
c[4].metric(
    "Errors",
    f"{quick.error_pct:.2f}%",
    ("SLO met" if quick.slo.met else "SLO missed") + f" · drops {drops:.2f}%",  # the verdict first: a
    # narrow column cuts the end of the line ("SLO mi…" at five metrics across 1440 px)
    delta_color="normal" if quick.slo.met else "inverse",
    delta_arrow="off",
    border=True,
    help="Requests that failed or timed out; drops are Kafka messages refused by a full partition.",
)
price_caveat(cost_record.this_month(scenario.model_dump_json()).cost)
fitted_note.show(scenario)
story.whatif_banner(scenario)  # one verdict: holds / holds only with autoscaling / breaks (users too)
storm_view.retries_caption(quick)
verdict = st.container()

knobs, out = st.columns([1, 2.2], gap="large")
with knobs:
    users_controls.workload_control(scenario, base)
    controls.retries_control(scenario, base)
    for name, node in scenario.nodes.items():
        with st.expander(f"**{md(name)}** · {node.kind}", expanded=name == scenario.entry):
            controls.node_controls(name, node, base.nodes[name], scenario.pricing)
    if state.changes():
        st.button("Reset all changes", on_click=state.reset_changes, icon=":material/undo:", key="wi-reset")

with out:
    # submitted once the analytic numbers and the knobs are on screen: the first visit after a start
    # waits ~2 s for the worker pool, which must not hold back the instant answer
    handle = confirm.start(scenario) if auto else None
    scenario_json = scenario.model_dump_json()
    if scenario.workload.closed:  # users wait for their answers: the load-test view replaces the rate's
        users_view.show(scenario, scenario_json)
        ramp_view.show(scenario)
    else:
        st.subheader("Latency against load")
        curve = cached.latency_curve(scenario_json)
        st.altair_chart(
            charts.latency_vs_load(curve, quick.rate_rps, slo.p99_ms, cached.saturation_rps(scenario_json)),
            width="stretch",
        )
        st.caption(
            "Queueing theory at each load: flat while servers are mostly idle, then the hockey stick "
            "as the busiest pool nears 100%."
        )

    st.subheader("Confirmed by simulation")
    st.toggle(
        "Simulate every change",
        value=True,
        key="wi-auto-sim",
        help=f"{cached.SIM_REQUESTS:,} requests, seed {cached.SEED}, in a worker process "
        "(the page stays usable; identical runs are shared).",
    )
    if handle is None and st.button("Simulate now", icon=":material/play_arrow:", key="wi-sim-now"):
        handle = confirm.start(scenario)
    if handle is not None:
        sim = confirm.finish(handle)
        if sim is not None:
            rows = []
            for key in ("p50", "p95", "p99"):
                target = getattr(slo, f"{key}_ms")
                for method, res in ((quick.method, quick), ("simulation", sim)):
                    rows.append(
                        {
                            "percentile": key,
                            "method": method,
                            "latency_ms": float(getattr(res.latency_ms, key)),
                            "slo_ms": target if target else float("nan"),
                        }
                    )
            st.dataframe(
                confirm.comparison(quick, sim, slo), hide_index=True, width="stretch"
            )  # the whole column: no cut
            if all(
                math.isfinite(r["latency_ms"]) for r in rows
            ):  # a saturated run has no percentiles to draw
                st.altair_chart(charts.percentiles_vs_slo(pd.DataFrame(rows)), width="stretch", height=320)
            gap = abs(sim.latency_ms.p99 - quick.latency_ms.p99) / max(sim.latency_ms.p99, 1e-9)
            with verdict:
                if sim.slo.met:
                    st.success(
                        f"Simulation agrees: SLO met (p99 {ms(sim.latency_ms.p99)}).",
                        icon=":material/check_circle:",
                    )
                else:
                    st.warning(
                        "Simulation: SLO missed: " + "; ".join(sim.slo.violations), icon=":material/warning:"
                    )
            if gap > 0.15 and not sim.saturated:
                st.caption(
                    f"The simulation's p99 differs from the {quick.method} estimate by {100 * gap:.0f}%: "
                    "trust the simulation (the formulas approximate this graph)."
                )
    else:
        st.caption("Simulation off: the numbers above are the analytic estimate.")

    storm_view.show(scenario)
