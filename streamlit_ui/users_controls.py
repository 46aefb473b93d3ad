"""What-if: the load as an open rate or as concurrent users (a closed workload), and the users' knobs.

Switching records the workload keys as changes (so links and the downloaded YAML carry them): to
users, `workload.users` (about as many as send today's rate with a second's think time),
`workload.think_ms` and `workload.rate_rps: null`; back to a rate, the users' throughput as
`workload.rate_rps` and the users' keys null. A change equal to the file's own value is dropped.
"""

from __future__ import annotations

import streamlit as st

from streamlit_ui import cached, controls, state

OPEN, CLOSED = "requests/s (open)", "concurrent users (closed)"
DEFAULT_THINK_MS = 1000.0
WORKLOAD_KEYS = (
    "workload.rate_rps",
    "workload.users",
    "workload.think_ms",
    "workload.arrivals",
    "workload.kind",
)


def _forget_widgets() -> None:
    for path in WORKLOAD_KEYS:
        if path != "workload.kind":
            st.session_state.pop(state.WIDGET_PREFIX + path, None)


def _switch(closed: bool, current, baseline) -> None:
    base = baseline.workload
    quick = cached.quick_results(current.model_dump_json())
    if closed:
        think_ms = base.think_ms if base.closed and base.think_ms is not None else DEFAULT_THINK_MS
        # Little's law: users = rate x (think + response), so today's rate keeps its size
        users = (
            base.users
            if base.closed
            else max(1, round(quick.rate_rps * (think_ms + quick.latency_ms.mean) / 1000.0))
        )
        state.set_change("workload.users", users, base.users)
        state.set_change("workload.think_ms", think_ms, base.think_ms)
        state.set_change("workload.rate_rps", None, base.rate_rps)
        state.set_change("workload.arrivals", "poisson", base.arrivals)
    else:
        rate = base.rate_rps if not base.closed else round(quick.rate_rps, 1)
        state.set_change("workload.rate_rps", rate, base.rate_rps)
        state.set_change("workload.users", None, base.users)
        state.set_change("workload.think_ms", None, base.think_ms)
        state.set_change("workload.arrivals", base.arrivals, base.arrivals)
    _forget_widgets()


def workload_control(current, baseline) -> None:
    """Open or closed, then that workload's knobs."""
    key = state.WIDGET_PREFIX + "workload.kind"
    st.session_state[key] = CLOSED if current.workload.closed else OPEN
    st.radio(
        "Load as",
        (OPEN, CLOSED),
        key=key,
        horizontal=True,
        on_change=lambda: _switch(st.session_state[key] == CLOSED, current, baseline),
        help="Open: requests arrive at a rate whatever the answers do (an API's traffic). Closed: a "
        "number of users each wait for their answer, then think, then ask again (a load test's virtual "
        "users, a team of clerks): a slow system slows its users down instead of piling up requests.",
    )
    if current.workload.closed:
        users_control(current, baseline)
    else:
        controls.load_control(current, baseline)


def users_control(current, baseline) -> None:
    base = baseline.workload
    now = current.workload
    base_users = base.users if base.closed else now.users
    key = state.WIDGET_PREFIX + "workload.users"
    if key not in st.session_state:
        st.session_state[key] = int(now.users)
    st.slider(
        "Concurrent users",
        min_value=1,
        max_value=int(max(10, 4 * base_users, now.users + 1)),
        step=1,
        key=key,
        on_change=lambda: state.set_change("workload.users", int(st.session_state[key]), base.users),
        help="Users each sending a request, waiting for the answer, thinking, and sending the next."
        + (f" The file says {base.users:,}." if base.closed else ""),
    )
    think_key = state.WIDGET_PREFIX + "workload.think_ms"
    if think_key not in st.session_state:
        st.session_state[think_key] = float(now.think_time_ms)
    st.number_input(
        "Think time (ms, mean)",
        min_value=0.0,
        max_value=3_600_000.0,
        step=100.0,
        key=think_key,
        format="%.0f",
        on_change=lambda: state.set_change(
            "workload.think_ms", float(st.session_state[think_key]), base.think_ms
        ),
        help="The time between an answer and the user's next request (exponential, this mean).",
    )
