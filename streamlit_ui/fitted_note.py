"""A fitted scenario's validation error, shown beside every prediction made from it.

A scenario written by the fit carries how far its predictions were from the data it was fitted
to (the `fitted` key, model.scenario.fitted). What-if, Compare and Right-size predict from it,
so each shows that error in one sentence next to its numbers: "This model under-predicted
busy-hour p99 latency by 33% on your data (...)". A page calls `show` once; `sentence` is the
text, kept free of Streamlit so it is tested on its own.
"""

from __future__ import annotations

import streamlit as st

from model.planning.report import ms
from model.scenario.fitted import FitCheck, FitRecord
from model.scenario.schema import Scenario
from streamlit_ui.views import md

ICON = ":material/rule:"


def headline(record: FitRecord) -> FitCheck | None:
    """The check a prediction's reader needs most: latency (what the SLO is about), else the node
    utilization the fit got most wrong."""
    latency = [c for c in record.checks if c.unit == "ms"]
    if latency:
        return latency[0]
    return max(record.checks, key=lambda c: abs(c.error_pct), default=None)


def sentence(record: FitRecord) -> str | None:
    """One sentence: the statistic, its signed error, the values and the load it was measured at."""
    check = headline(record)
    if check is None:
        return None
    stat = check.what
    if stat.startswith("latency "):  # "latency p99" -> "p99 latency"
        stat = f"{stat.removeprefix('latency ')} latency"
    at = check.at.replace(" ", "-")
    shown = ms if check.unit == "ms" else (lambda v: f"{v:,.1f}%")
    error = check.error_pct  # as the record holds it, to 0.1%: the number the fit's validation printed
    if abs(error) < 0.05:
        verb = f"matched {at} {stat}"
    else:
        verb = f"{'over' if error > 0 else 'under'}-predicted {at} {stat} by {abs(error):.1f}%"
    solver = "simulation" if record.method == "sim" else "queueing formulas"
    return (
        f"This model {verb} on your data ({error:+.1f}%: {shown(check.predicted)} predicted, "
        f"{shown(check.observed)} observed at {check.rate_rps:,.1f} req/s; fitted to {md(record.source)} "
        f"data, {md(record.window)}, checked with {solver})."
    )


def show(scenarios: Scenario | dict[str, Scenario]) -> None:
    """The sentence of each fitted scenario (a dict: labelled, one line per distinct fit); nothing
    for a scenario that was not fitted."""
    labelled = scenarios if isinstance(scenarios, dict) else {"": scenarios}
    by_record: dict[str, tuple[FitRecord, list[str]]] = {}  # keyed by the record's JSON (lists: unhashable)
    for label, scenario in labelled.items():
        if scenario.fitted is not None:
            by_record.setdefault(scenario.fitted.model_dump_json(), (scenario.fitted, []))[1].append(label)
    for record, labels in by_record.values():
        text = sentence(record)
        if text is None:
            continue
        names = ", ".join(f"**{md(label)}**" for label in labels if label)
        st.info(f"{names}: {text}" if names else text, icon=ICON)
