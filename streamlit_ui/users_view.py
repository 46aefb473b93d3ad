"""What-if's users panel for a closed workload: how many users hold, and the load-test chart."""

from __future__ import annotations

import streamlit as st

from model.planning.report import ms
from streamlit_ui import cached
from streamlit_ui.users_chart import users_chart, users_frame


def show(scenario, scenario_json: str) -> None:
    answer = cached.users_answer(scenario_json)
    st.subheader("Users against throughput and latency")
    c = st.columns(3)
    if answer.max_users is None:
        held = "no SLO target" if not answer.has_slo else "not one"
        c[0].metric("Users in SLO", held, border=True)
    else:
        c[0].metric(
            "Users in SLO",
            f"{answer.max_users:,}" + ("+" if answer.capped else ""),
            f"p99 {ms(answer.at_max.latency_ms.p99)}",
            delta_color="off",
            delta_arrow="off",
            border=True,
            help="The most concurrent users whose latency and errors still meet the SLO (analytic): "
            f"they send {answer.at_max.throughput_rps:,.1f} requests/s, p99 {ms(answer.at_max.latency_ms.p99)}.",
        )
    c[1].metric(
        "Knee N*",
        f"{answer.knee_users:,.0f}",
        "users",
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Where the two throughput bounds cross: below it users add throughput, beyond it only waiting. "
        f"N* = (D + Z) / D_max = ({answer.demand_ms:,.1f} + {answer.think_ms:,.0f}) ms / "
        f"{answer.bottleneck_demand_ms:,.2f} ms.",
    )
    c[2].metric(
        "Max req/s",
        f"{answer.max_throughput_rps:,.0f}",
        f"{answer.bottleneck} first",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )
    chart = users_chart(
        users_frame(answer.curve),
        answer.knee_users,
        answer.max_throughput_rps,
        answer.demand_ms + answer.think_ms,
        answer.users,
        scenario.slo.p99_ms,
        answer.max_users,
    )
    st.altair_chart(chart, width="stretch")
    st.caption(
        "As a load test ramps virtual users: throughput climbs along users / (D + Z) until the bottleneck "
        "runs flat out (dashed: the two bounds), then flattens, and latency turns up at the knee. "
        "Analytic (mean-value analysis); the simulation below checks today's users."
    )
