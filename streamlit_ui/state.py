"""The few session-state keys the app keeps, and the URL that mirrors them.

Keys (everything else in `st.session_state` belongs to a widget and may be dropped by
Streamlit when its page is not shown):

- `scenario`:  the current `ScenarioText` (YAML text, name, origin)
- `changes`:   the what-if changes, `{key path: value}`, applied on top of the scenario
- `library`:   scenarios the user uploaded or saved this session, `{label: ScenarioText}`
- `source`:    a one-line description of the data source in use (set by Observe; None: the demo, see `source_text`)
- `_source_slot`: this run's sidebar placeholder for that line, which `set_source` rewrites
- `fit_yaml`:  the fit file last built on Observe, `{yaml, folder, endpoint}`, for Calibrate
- `notice`:    a message to show once (a bad upload, a link that could not be opened)
- `headroom_pct`: the headroom target (max utilization of any pool, %) Right-size searches by and
               Overview colours the service graph by; absent: model.planning.risk's default (75)
- `zone_loss`: Right-size's "survive losing a zone" switch; absent: on for production-like scenarios
- `peak_event`: a declared peak event `{factor, days, ramp_minutes}` (set by the peak page), which
               Right-size must hold
- `cost`:      the Cost page's controls, a `streamlit_ui.cost_link.CostSettings`

The URL carries the scenario, the changes (`streamlit_ui.scenarios.encode_query`) and the
Cost page's controls (`streamlit_ui.cost_link.encode`), so a copied link reproduces the view
in another browser.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from streamlit_ui import cost_link
from streamlit_ui.scenarios import (
    DEFAULT_NAME,
    ScenarioText,
    decode_query,
    encode_query,
    read_folder_scenario,
)

SCENARIO, CHANGES, LIBRARY, SOURCE, FIT_YAML, NOTICE, COST = (
    "scenario",
    "changes",
    "library",
    "source",
    "fit_yaml",
    "notice",
    "cost",
)
DEMO_SOURCE = None  # until Observe reads a source, the pages use demo data generated from the open scenario
WIDGET_PREFIX = "wi:"  # what-if widgets; cleared when the scenario changes
COST_WIDGET_PREFIX = "cost:"  # Cost page widgets; seeded from `cost()`, cleared when another scenario opens


def init() -> None:
    """First run of a session: open what the URL names, else the built-in demo."""
    if SCENARIO in st.session_state:
        return
    params = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
    st_text, changes, problem = decode_query(params)
    st.session_state[SCENARIO] = st_text or read_folder_scenario(DEFAULT_NAME)
    st.session_state[CHANGES] = changes
    st.session_state[LIBRARY] = {}
    st.session_state[SOURCE] = DEMO_SOURCE
    if st_text is not None and st_text.origin == "upload":
        st.session_state[LIBRARY][st_text.name] = st_text
    settings, ignored = cost_link.decode(params)
    st.session_state[COST] = settings
    problem = " ".join(p for p in [problem, *ignored] if p)
    if problem:
        st.session_state[NOTICE] = problem


def scenario() -> ScenarioText:
    return st.session_state[SCENARIO]


def changes() -> dict[str, Any]:
    return st.session_state[CHANGES]


def set_scenario(st_text: ScenarioText, new_changes: dict[str, Any] | None = None) -> None:
    """Open a scenario; the Cost page's budget, growth and baseline belong to the one left behind."""
    old = st.session_state.get(SCENARIO)
    if old is None or (old.name, old.origin) != (st_text.name, st_text.origin):
        st.session_state[COST] = cost_link.CostSettings(commitment=cost().commitment, horizon=cost().horizon)
        for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(COST_WIDGET_PREFIX)]:
            del st.session_state[key]
    st.session_state[SCENARIO] = st_text
    st.session_state[CHANGES] = dict(new_changes or {})
    clear_widgets()


def set_change(path: str, value: Any, baseline: Any) -> None:
    """Record one what-if change; a value equal to the file's own drops the change."""
    current = dict(st.session_state[CHANGES])
    if value == baseline:
        current.pop(path, None)
    else:
        current[path] = value
    st.session_state[CHANGES] = current


def reset_changes() -> None:
    st.session_state[CHANGES] = {}
    clear_widgets()


def clear_widgets() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(WIDGET_PREFIX)]:
        del st.session_state[key]


def cost() -> cost_link.CostSettings:
    return st.session_state.get(COST) or cost_link.CostSettings()


def set_cost(**values: Any) -> None:
    """Record Cost page controls (None: back to the default, which drops it from the link)."""
    from dataclasses import replace

    st.session_state[COST] = replace(cost(), **values)


def sync_url() -> None:
    """Write the scenario, changes and Cost controls into the URL (only when they differ, to avoid churn)."""
    wanted = encode_query(scenario(), changes()) | cost_link.encode(cost())
    current = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
    normal = {k: (v if isinstance(v, list) else [v]) for k, v in wanted.items()}
    if current != normal:
        st.query_params.clear()
        for key, value in wanted.items():
            st.query_params[key] = value


def source_text() -> str:
    """The data source in one line: what Observe last read (uploads, a cloud), else the demo of the open scenario."""
    described = st.session_state.get(SOURCE)
    if described:
        return described
    current = scenario()
    where = (
        f"scenarios/{current.name}.yaml" if current.origin == "folder" else f"{current.name}.yaml (uploaded)"
    )
    return f"Demo data: two weeks generated from {where} (no cloud account)"


SOURCE_SLOT = "_source_slot"  # this run's sidebar line for the data source (a placeholder), see set_source


def set_source(text: str | None) -> None:
    """Record the data source in use (Observe) and rewrite this run's sidebar line with it: the sidebar
    is drawn before the page that reads the source, and would otherwise name the last run's (a CSV
    just uploaded shown as "Demo")."""
    st.session_state[SOURCE] = text
    slot = st.session_state.get(SOURCE_SLOT)
    if slot is not None:
        slot.caption(source_text())


def notice() -> str | None:
    return st.session_state.pop(NOTICE, None)


HEADROOM, ZONE_LOSS, PEAK_EVENT = "headroom_pct", "zone_loss", "peak_event"


def headroom_pct() -> float:
    """The headroom target in %, as Right-size last set it (model.planning.risk's default before)."""
    from model.planning.risk import DEFAULT_HEADROOM_PCT

    return float(st.session_state.get(HEADROOM, DEFAULT_HEADROOM_PCT))


def peak_factor() -> float | None:
    """The declared peak event's load factor, when one is declared."""
    event = st.session_state.get(PEAK_EVENT)
    factor = event.get("factor") if isinstance(event, dict) else None
    return float(factor) if isinstance(factor, (int, float)) and factor > 0 else None
