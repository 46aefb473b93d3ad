"""What-if through time: a burst simulated second by second, with the scenario's client retries or without.

One number per run hides a retry storm: the same scenario can recover from a burst or stay down
after it, depending on its retries. This view runs a timed simulation with a burst in the
process pool (`streamlit_ui.pool_jobs.timed_job`, the same `evaluate` the CLI's
`simulate --duration --burst` calls) and draws requests, offered load with retries, goodput and
errors against capacity, with the verdict in words.
"""

from __future__ import annotations

import math

import streamlit as st

from model.planning.load import planning_rate
from streamlit_ui import cached, storm_chart
from streamlit_ui.pool_jobs import timed_job
from streamlit_ui.views import run_error

DURATIONS_S = (60, 120, 180, 300, 600)


def retries_caption(quick) -> None:
    """Under the headline numbers: what the scenario's client retries add, and whether a storm would last."""
    x = quick.retries
    if x is None:
        return
    risk = x.risk
    st.caption(
        f"Client retries: {x.amplification:.3f} attempts per request ({x.offered_rps:,.1f} attempts/s offered, "
        f"{x.attempt_error_pct:.2f}% of attempts failing). "
        + (
            f"With every attempt failing the clients would send {risk.storm_rps:,.0f}/s against a capacity of "
            f"{risk.capacity_rps:,.0f}/s: a burst can tip it into a retry storm that outlasts the burst "
            "(see **Through time** below)."
            if risk.sustains
            else "A retry storm would die out at this size."
        )
    )


def show(scenario) -> None:
    st.subheader("Through time: a burst")
    st.caption(
        "A short burst above the usual load, simulated second by second from an empty system. With "
        "client retries, the attempts a burst makes time out are sent again, and the retries can keep "
        "the system overloaded after the burst has passed (a retry storm); without them the backlog "
        "drains. Switch **Client retries** (under the load) to compare."
    )
    if scenario.workload.arrivals == "trace":
        st.info(
            "This scenario replays a trace, which sets its own load through time; a burst applies to a "
            "steady rate.",
            icon=":material/info:",
        )
        return
    c1, c2, c3 = st.columns(3)
    factor = c1.slider("Burst", 1.1, 5.0, 2.0, 0.1, key="storm-factor", format="%.1fx the load")
    length = c2.slider("Burst length", 2, 120, 10, 1, key="storm-length", format="%d s")
    duration = c3.select_slider(
        "Simulated time", DURATIONS_S, 180, key="storm-duration", format_func=lambda s: f"{s} s"
    )
    start = round(duration / 3)
    burst = (float(factor), float(start), float(min(length, duration - start)))
    scenario_json = scenario.model_dump_json()
    pool = cached.pool()
    key = pool.key("storm", scenario_json, cached.SEED, float(duration), burst)
    answer = pool.answer(key)
    if answer is None:
        rate = planning_rate(scenario)  # a closed workload: what its users send
        scaled = any(getattr(node, "autoscale", None) for node in scenario.nodes.values())
        st.caption(
            f"{duration} s at {rate:,.0f} requests/s, {factor:.1f}x from {start} s for {burst[2]:g} s "
            f"(seed {cached.SEED}, in a worker process)."
            + (
                " The HPA does not act in this run: nodes keep the replicas set on the left."
                if scaled
                else ""
            )
        )
        if not st.button("Simulate the burst", icon=":material/play_arrow:", key="storm-run"):
            return
        answer = _run(pool, key, scenario_json, float(duration), burst)
        if answer is None:
            return
    _draw(scenario, scenario_json, answer["json"])


def _run(pool, key: str, scenario_json: str, duration_s: float, burst: tuple) -> dict | None:
    bar = st.progress(0.0, text="Simulating the burst…")
    try:
        run = pool.submit(
            key, timed_job, scenario_json, cached.SEED, duration_s, burst, owner=cached.owner("storm")
        )
        answer = pool.wait(
            run, lambda f: bar.progress(min(f, 1.0), text=f"Simulating the burst… {100 * f:.0f}%")
        )
    except Exception as exc:  # a worker failure is shown, never raised as a traceback
        bar.empty()
        run_error(exc)
        return None
    bar.empty()
    return answer


def _draw(scenario, scenario_json: str, data: dict) -> None:
    test = data["load_test"]
    burst, end = test["burst"], test["end"]
    after = burst["start_s"] + burst["length_s"]
    capacity = cached.saturation_rps(scenario_json)
    st.altair_chart(
        storm_chart.through_time(test["timeline"], capacity, (burst["start_s"], after)),
        width="stretch",
    )
    retries = data.get("retries")
    cols = st.columns(2) + st.columns(2)  # two by two: the column is a third narrower than the page
    cols[0].metric("Offered at the end", f"{end['offered_rps']:,.1f}/s", border=True, help=_END_HELP)
    cols[1].metric("Goodput at the end", f"{end['goodput_rps']:,.1f}/s", border=True, help=_END_HELP)
    cols[2].metric("Errors at the end", f"{end['errors_rps']:,.1f}/s", border=True, help=_END_HELP)
    cols[3].metric(
        "Retry amplification",
        f"{retries['amplification']:.2f}x" if retries else "no retries",
        border=True,
        help="Attempts per request over the whole run (first sends and retries).",
    )
    recovered = burst["recovered_at_s"]
    cap = f"{capacity:,.0f}/s" if math.isfinite(capacity) else "unbounded"
    if recovered is not None:
        st.success(
            f"Recovered at {recovered:g} s, {recovered - after:g} s after the burst ended: the backlog "
            "drained and answers came back in time.",
            icon=":material/check_circle:",
        )
    elif retries:
        st.error(
            f"**Retry storm.** The burst ended at {after:g} s, but the clients' retries still offer "
            f"{end['offered_rps']:,.0f} attempts/s against a capacity of {cap}; goodput is "
            f"{end['goodput_rps']:,.1f} of {end['requests_rps']:,.1f} requests/s at the end of the run. "
            f"With every attempt failing the clients send {retries['storm_rps']:,.0f}/s, so the overload "
            "feeds itself: fewer retries, a longer backoff, or capacity above that would let it recover.",
            icon=":material/error:",
        )
    else:
        st.warning(
            f"Not recovered by the end of the run: goodput {end['goodput_rps']:,.1f} of "
            f"{end['requests_rps']:,.1f} requests/s (capacity {cap}). The backlog the burst left has not "
            "drained yet, or the load itself is above capacity: simulate longer or add capacity.",
            icon=":material/warning:",
        )


_END_HELP = "Mean over the last tenth of the simulated time: the state the run ended in."
