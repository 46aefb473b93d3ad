"""The Cost page's controls: each widget edits one field of `state.cost()`, which the link carries.

As with the what-if widgets (`streamlit_ui.controls`), a widget holds no truth of its own: it
is seeded from the session's `CostSettings` (itself read from the link on the first run) and
writes back on change, so leaving the page, coming back or opening a shared link shows the
same commitment, horizon, budget, growth and baseline. A control left at its default is None
in the settings and stays out of the link.
"""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from streamlit_ui import cost_link, state

SHORT = {"on_demand": "on demand", "1yr": "1 year", "3yr": "3 years"}  # fits 390 px


def _key(name: str) -> str:
    return state.COST_WIDGET_PREFIX + name


def _seed(name: str, value: Any) -> str:
    key = _key(name)
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def _on_change(name: str, default: Any, convert: Callable[[Any], Any] = lambda v: v) -> Callable[[], None]:
    def changed() -> None:
        value = st.session_state[_key(name)]
        value = None if value is None else convert(value)
        state.set_cost(**{name: None if value == default else value})

    return changed


def horizon(where, default_months: int) -> int:
    """Months ahead to plan; the scenario's `workload.horizon_months` unless changed."""
    chosen = state.cost().horizon or default_months
    top = max(36, chosen, default_months)
    key = _seed("horizon", chosen)
    value = where.slider(
        "Horizon (months)",
        1,
        int(min(top, cost_link.RANGES["horizon"].high)),
        key=key,
        on_change=_on_change("horizon", default_months, int),
        help=f"Months planned, this month included. The scenario's own horizon is {default_months}.",
    )
    return int(value)


def commitment(where, default: str) -> str:
    """The pricing the bill is shown at: on demand, or a 1- or 3-year commitment on the baseline."""
    key = _seed("commitment", state.cost().commitment or default)
    value = where.segmented_control(
        "Pricing (commitment)",
        list(cost_link.COMMITMENT_KEYS),
        format_func=SHORT.get,
        key=key,
        on_change=_on_change("commitment", default),
        help="A commitment prices the steady baseline below at the committed rate for its whole term; "
        "usage above the baseline is billed on demand.",
    )
    return value or state.cost().commitment or default


def budget(where, suggested_usd: float) -> float:
    """A monthly budget in USD (0: none); suggested at a quarter above this month's bill until set."""
    chosen = state.cost().budget
    key = _seed("budget", float(suggested_usd if chosen is None else chosen))

    def changed() -> None:
        state.set_cost(budget=float(st.session_state[key] or 0.0))

    value = where.number_input(
        "Monthly budget (USD)",
        min_value=0.0,
        max_value=cost_link.RANGES["budget"].high,
        step=100.0,
        format="%.0f",
        key=key,
        on_change=changed,
        help="Drawn as a red line; the first month above it is named in the headline. 0: no budget.",
    )
    return float(value or 0.0)


def growth(where, in_use_pct: float, source: str) -> float | None:
    """An override of the load's growth (% a month); empty: the scenario's or the fitted growth."""
    bounds = cost_link.RANGES["growth"]
    key = _key("growth")  # not seeded: an empty box needs `value=None`, which a seeded key would contradict
    value = where.number_input(
        "Growth override (% a month)",
        min_value=float(bounds.low),
        max_value=float(bounds.high),
        value=None if key in st.session_state else state.cost().growth,
        step=0.5,
        format="%.1f",
        key=key,
        placeholder=f"{in_use_pct:g}% ({source})",
        on_change=_on_change("growth", None, float),
        help=f"Empty: {source}, {in_use_pct:g}% a month. A number here replaces it on this page and in its "
        "exports (the scenario file is unchanged).",
    )
    return None if value is None else float(value)


def baseline(where, defaults: dict[str, int]) -> dict[str, int]:
    """The commitment's steady baseline, whole units per node; an empty box is the model's default
    (`defaults`: each node's lowest hourly usage in the first month). Returns the hand-set units."""
    from streamlit_ui.views import md

    chosen = state.cost().baseline_units(defaults)

    def changed() -> None:
        units = {}
        for node in defaults:
            value = st.session_state.get(_key(f"baseline:{node}"))
            if value is not None:
                units[node] = int(value)
        state.set_cost(baseline=tuple(sorted(units.items())) or None)

    columns = where.columns(min(4, max(1, len(defaults))))
    for k, (node, default) in enumerate(defaults.items()):
        key = _key(f"baseline:{node}")
        columns[k % len(columns)].number_input(
            f"{md(node)} (units)",
            min_value=0,
            max_value=cost_link.MAX_BASELINE_UNITS,
            value=None if key in st.session_state else chosen.get(node),
            step=1,
            format="%d",
            key=key,
            placeholder=f"{default} (default)",
            on_change=changed,
            help=f"Units of {md(node)} committed for the whole term. Empty: {default}, its lowest hourly "
            "usage in the first month (the way savings-plan recommendations are usually sized; 0 where "
            "the commitment is no cheaper than on demand).",
        )
    return chosen
