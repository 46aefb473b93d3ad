"""The peak-event page's pieces: the run in the process pool, the chart through the event, the changes as text.

Session key `peak_event` (streamlit_ui/state.py): the event the user declared on the page,
`{"factor": F, "days": D, "ramp_minutes": M}`, for the other pages (Right-size reads it).
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from streamlit_ui import cached
from streamlit_ui.pool_jobs import peak_job
from streamlit_ui.views import md, run_error

PEAK_EVENT = "peak_event"
DEFAULT_EVENT = {"factor": 3.0, "days": 1.0, "ramp_minutes": 30.0}


def declared() -> dict[str, float]:
    """The event last declared in this session, else the default (3x for a day, 30-minute ramp)."""
    return {**DEFAULT_EVENT, **st.session_state.get(PEAK_EVENT, {})}


def declare(factor: float, days: float, ramp_minutes: float) -> None:
    st.session_state[PEAK_EVENT] = {
        "factor": float(factor),
        "days": float(days),
        "ramp_minutes": float(ramp_minutes),
    }


def run(scenario, event: dict, target: float, seed: int = cached.SEED):
    """model.planning.peak's answer, run in the pool with a progress bar; None after a friendly error."""
    pool = cached.pool()
    scenario_json = scenario.model_dump_json()
    key = pool.key("peak", scenario_json, sorted(event.items()), target, seed)
    answer = pool.answer(key)
    if answer is None:
        bar = st.progress(0.0, text="Simulating the event with the HPA acting…")
        try:
            job = pool.submit(key, peak_job, scenario_json, event, target, seed, owner=cached.owner("peak"))
            answer = pool.wait(
                job,
                lambda f: bar.progress(
                    min(f, 1.0), text=f"Simulating the event with the HPA acting… {100 * f:.0f}%"
                ),
            )
        except Exception as exc:  # a worker failure is shown, never raised as a traceback
            bar.empty()
            run_error(exc)
            return None
        bar.empty()
    return answer["result"]


def _value_at(scenario, path: str) -> Any:
    here: Any = scenario.model_dump()
    for part in path.split("."):
        here = here.get(part) if isinstance(here, dict) else None
    return here


def changes_markdown(scenario, changes: dict[str, Any], unfixable: dict[str, str]) -> str:
    """`- nodes.db.read_replicas: 1 → **3**` per change, then what adding units cannot fix."""
    lines = [
        f"- `{md(path)}`: {md(_value_at(scenario, path))} → **{md(value)}**"
        for path, value in changes.items()
    ]
    lines += [f"- **{md(node)}**: {md(why)}" for node, why in unfixable.items()]
    return "\n".join(lines) or "Nothing: every node stays at or under the target."


def frame(result) -> pd.DataFrame:
    """The minutes before the held plateau (the onset: where things break), one row per minute."""
    end = result.held[0] if result.held is not None else math.inf
    rows = []
    for m in result.series:
        if m.minute >= end:
            break
        rows.append(
            {
                "minute": m.minute,
                "rate_rps": m.rate_rps,
                "p99_ms": m.p99_ms if math.isfinite(m.p99_ms) else None,
                "error_pct": m.error_pct,
                "kafka_drop_pct": m.kafka_drop_pct,
                "source": m.source,
                "slo": "met" if not m.violations else "missed",
                **{f"replicas:{n}": r for n, r in m.replicas.items()},
            }
        )
    return pd.DataFrame(rows)


def chart(result, slo_p99_ms: float | None) -> alt.Chart:
    """Load, replicas, p99 against the SLO, errors and Kafka drops, minute by minute; the break marked."""
    data = frame(result)
    x = alt.X("minute:Q", title="minutes from the start of the ramp")
    load = (
        alt.Chart(data)
        .mark_line(color="#4c78a8", strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y("rate_rps:Q", title="load (req/s)"),
            tooltip=[alt.Tooltip("minute:Q"), alt.Tooltip("rate_rps:Q", title="req/s", format=",.1f")],
        )
    )
    replica_cols = [c for c in data.columns if c.startswith("replicas:")]
    replica_panels = []
    if replica_cols:
        long = data.melt("minute", replica_cols, var_name="node", value_name="replicas")
        long["node"] = long["node"].str.removeprefix("replicas:")
        pods = (
            alt.Chart(long)
            .mark_line(interpolate="step-after", strokeWidth=2)
            .encode(
                x=x,
                y=alt.Y("replicas:Q", title="replicas", scale=alt.Scale(zero=True)),
                color=alt.Color("node:N", title="replicas of", scale=alt.Scale(scheme="tableau10")),
                tooltip=["minute:Q", "node:N", "replicas:Q"],
            )
        )
        # a panel of its own: a second y axis on the right of the load's ran past the page's column
        replica_panels = [pods]
    finite = data["p99_ms"].dropna()
    ceiling = max(float(finite.max()) if len(finite) else 1.0, 2.0 * (slo_p99_ms or 0.0))
    if slo_p99_ms:
        ceiling = min(ceiling, 5.0 * slo_p99_ms)
    p99_data = data.assign(
        p99_shown=data["p99_ms"].fillna(ceiling).clip(upper=ceiling),
        p99_text=data["p99_ms"].map(lambda v: "unbounded" if v is None or pd.isna(v) else f"{v:,.1f} ms"),
    )
    p99 = (
        alt.Chart(p99_data)
        .mark_line(point=True, color="#1e3a8a")
        .encode(
            x=x,
            y=alt.Y("p99_shown:Q", title="p99 (ms)", scale=alt.Scale(domain=[0, ceiling], clamp=True)),
            strokeDash=alt.StrokeDash(
                "source:N",
                title="from",
                scale=alt.Scale(domain=["simulation", "theory"], range=[[1, 0], [4, 3]]),
            ),
            tooltip=["minute:Q", alt.Tooltip("p99_text:N", title="p99"), "source:N", "slo:N"],
        )
    )
    middle = p99
    if slo_p99_ms:
        rule = (
            alt.Chart(pd.DataFrame({"slo": [slo_p99_ms]}))
            .mark_rule(color="#dc2626", strokeDash=[6, 4])
            .encode(y="slo:Q")
        )
        middle = alt.layer(p99, rule)
    errors_long = data.melt("minute", ["error_pct", "kafka_drop_pct"], var_name="what", value_name="pct")
    errors_long["what"] = errors_long["what"].map(
        {"error_pct": "requests failed", "kafka_drop_pct": "Kafka drops"}
    )
    errors = (
        alt.Chart(errors_long)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y(
                "pct:Q",
                title="errors (%)",
                scale=alt.Scale(domain=[0, max(1.0, float(errors_long["pct"].max() or 0.0))]),
                axis=alt.Axis(format=",.3~f"),
            ),
            color=alt.Color(
                "what:N",
                title=None,
                scale=alt.Scale(domain=["requests failed", "Kafka drops"], range=["#dc2626", "#f58518"]),
            ),
            tooltip=["minute:Q", "what:N", alt.Tooltip("pct:Q", format=".3f")],
        )
    )
    panels = [
        load.properties(height=150),
        *(p.properties(height=100) for p in replica_panels),
        middle.properties(height=170),
        errors.properties(height=120),
    ]
    if result.breaks is not None:
        mark = (
            alt.Chart(pd.DataFrame({"minute": [result.breaks.minute]}))
            .mark_rule(color="#dc2626", strokeWidth=2)
            .encode(x="minute:Q")
        )
        panels = [alt.layer(p, mark) for p in panels]
    return alt.vconcat(*panels).resolve_scale(color="independent").configure_legend(orient="top")
