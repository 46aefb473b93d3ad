"""What-if's load-test ramp for a closed workload: users stepped up over time, simulated in the pool,
with a Locust or k6 run of the user's own beside it when one is uploaded."""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from model.planning.report import ms
from model.scenario.limits import LimitError, check_upload
from streamlit_ui import cached
from streamlit_ui.pool_jobs import ramp_job
from streamlit_ui.views import run_error


def _observed(upload):
    """The uploaded run as plateaus, or None after a message (never a traceback)."""
    if upload is None:
        return None, None
    from connectors.errors import ConnectorError
    from model.fit.loadtest_steps import k6_steps, locust_steps

    try:
        check_upload(upload.size, upload.name)
    except LimitError as exc:
        st.error(str(exc))
        return None, None
    kind = "k6" if upload.name.lower().endswith((".json", ".jsonl", ".ndjson")) else "locust"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("points.json" if kind == "k6" else "stats_history.csv")
        path.write_bytes(upload.getvalue())
        try:
            steps = k6_steps(path) if kind == "k6" else locust_steps(path)
        except ConnectorError as exc:
            st.error(f"{upload.name}: {exc.message} {exc.hint}")
            return None, None
    return steps, f"{kind} {upload.name}"


def _frames(answer) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for step, expected in zip(answer.steps, answer.expected):
        for stat, value in (("p95", step.p95_ms), ("p99", step.p99_ms)):
            rows.append(
                {"time_s": step.start_s, "users": step.users, "series": f"simulated {stat}", "value": value}
            )
        rows.append(
            {"time_s": step.start_s, "users": step.users, "series": "simulated", "rps": step.throughput_rps}
        )
        rows.append(
            {
                "time_s": step.start_s,
                "users": step.users,
                "series": "steady state",
                "rps": expected.throughput_rps,
            }
        )
    for o in answer.observed:
        for stat, value in (("p95", o.p95_ms), ("p99", o.p99_ms)):
            rows.append({"time_s": o.start_s, "users": o.users, "series": f"your run {stat}", "value": value})
        rows.append({"time_s": o.start_s, "users": o.users, "series": "your run", "rps": o.throughput_rps})
    # each line held to its last step's end, as the users line is
    ends = {"simulated": answer.steps[-1].end_s, "steady state": answer.steps[-1].end_s}
    if answer.observed:
        ends["your run"] = answer.observed[-1].start_s + answer.observed[-1].duration_s
    rows += [
        {**row, "time_s": ends[row["series"].rsplit(" p", 1)[0]]}
        for row in rows
        if row["time_s"] == max(r["time_s"] for r in rows if r["series"] == row["series"])
    ]
    frame = pd.DataFrame(rows)
    latency = frame.dropna(subset=["value"]) if "value" in frame else frame.iloc[:0]
    throughput = frame.dropna(subset=["rps"]) if "rps" in frame else frame.iloc[:0]
    return latency[latency["value"].apply(math.isfinite)], throughput


THROUGHPUT_COLOURS = alt.Scale(
    domain=["simulated", "steady state", "your run"], range=["#1e3a8a", "#9ca3af", "#f58518"]
)
LATENCY_COLOURS = alt.Scale(
    domain=["simulated p95", "simulated p99", "your run p95", "your run p99"],
    range=["#60a5fa", "#1e3a8a", "#fdba74", "#c2410c"],
)


def ramp_chart(answer) -> alt.VConcatChart:
    """Users, throughput and latency per step through the ramp (your run's plateaus beside)."""
    latency, throughput = _frames(answer)
    users = pd.DataFrame(
        [{"time_s": s.start_s, "users": s.users} for s in answer.steps]
        + [{"time_s": answer.steps[-1].end_s, "users": answer.steps[-1].users}]
    )
    x = alt.X("time_s:Q", title="time into the ramp (s)")
    top = (
        alt.Chart(users)
        .mark_line(interpolate="step-after", color="#111827")
        .encode(x=x, y=alt.Y("users:Q", title="users"))
        .properties(height=120, title="Users")
    )
    tput = (
        alt.Chart(throughput)
        .mark_line(point=True, interpolate="step-after")
        .encode(
            x=x,
            y=alt.Y("rps:Q", title="requests/s"),
            color=alt.Color("series:N", title=None, scale=THROUGHPUT_COLOURS),
            tooltip=["series:N", "users:Q", alt.Tooltip("rps:Q", format=",.1f")],
        )
        .properties(height=180, title="Throughput per step")
    )
    lat = (
        alt.Chart(latency)
        .mark_line(point=True, interpolate="step-after")
        .encode(
            x=x,
            y=alt.Y("value:Q", title="latency (ms)"),
            color=alt.Color("series:N", title=None, scale=LATENCY_COLOURS),
            tooltip=["series:N", "users:Q", alt.Tooltip("value:Q", title="ms", format=",.1f")],
        )
        .properties(height=200, title="Latency per step")
    )
    return alt.vconcat(top, tput, lat).resolve_scale(color="independent")


def show(scenario) -> None:
    st.subheader("Load-test ramp")
    users = int(scenario.workload.users)
    c = st.columns(4)
    start = c[0].number_input("From users", 1, 1_000_000, max(1, users // 8), key="ramp-from")
    end = c[1].number_input("To users", 1, 1_000_000, users, key="ramp-to")
    steps = c[2].number_input("Steps", 1, 50, 8, key="ramp-steps")
    step_s = c[3].number_input("Seconds a step", 5, 3600, 30, key="ramp-step-s")
    upload = st.file_uploader(
        "Your load test to compare (optional): Locust's *_stats_history.csv or k6's --out json file",
        type=["csv", "json", "jsonl", "ndjson"],
        key="ramp-upload",
        help="Its steps (by user count) are shown beside the simulation, which then follows them.",
    )
    observed, source = _observed(upload)
    pool = cached.pool()
    args = (
        scenario.model_dump_json(),
        int(start),
        int(end),
        int(steps),
        float(step_s),
        cached.SEED,
        observed,
        source,
    )
    key = pool.key("ramp", *args[:6], source, [o.to_json() for o in observed or []])
    answer = pool.answer(key)
    pressed = st.button("Simulate the ramp", icon=":material/stacked_line_chart:", key="ramp-go")
    if answer is None and not pressed:
        st.caption("Simulates the steps through time as a load tool runs them (a few seconds to a minute).")
        return
    if answer is None:
        bar = st.progress(0.0, text="Simulating the ramp…")
        began = time.monotonic()
        try:
            run = pool.submit(key, ramp_job, *args, owner=cached.owner("ramp"))
            answer = pool.wait(
                run,
                lambda f: bar.progress(
                    min(f, 1.0),
                    text=f"Simulating the ramp… {100 * f:.0f}% ({time.monotonic() - began:.1f} s)",
                ),
            )
        except Exception as exc:  # a worker failure is shown, never raised as a traceback
            bar.empty()
            run_error(exc)
            return
        bar.empty()
    result = answer["answer"]
    st.altair_chart(ramp_chart(result), width="stretch")
    table = pd.DataFrame(
        [
            {
                "time (s)": f"{s.start_s:g}-{s.end_s:g}",
                "users": s.users,
                "throughput (req/s)": round(s.throughput_rps, 1),
                "mean": ms(s.mean_ms),
                "p95": ms(s.p95_ms),
                "p99": ms(s.p99_ms),
                "errors": f"{s.error_pct:.2f}%",
                "steady state": f"{e.throughput_rps:,.1f} req/s, p99 {ms(e.p99_ms)}",
            }
            for s, e in zip(result.steps, result.expected)
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    if result.observed:
        st.markdown(f"**Your run** ({source}), one row per user count:")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "from (s)": round(o.start_s, 1),
                        "held (s)": round(o.duration_s, 1),
                        "users": o.users,
                        "throughput (req/s)": round(o.throughput_rps, 1),
                        "p50": ms(o.p50_ms),
                        "p95": ms(o.p95_ms),
                        "p99": ms(o.p99_ms),
                        "errors": f"{o.error_pct:.2f}%" if math.isfinite(o.error_pct) else "-",
                    }
                    for o in result.observed
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    st.caption(
        f"Simulated (seed {cached.SEED}); the steady state is the analytic answer at each step's users. "
        f"Knee N* {result.knee_users:,.0f} users."
        + (f" Your run: {source}, its steps by user count." if source else "")
    )
