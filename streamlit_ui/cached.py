"""The page edge: `st.cache_*` wrappers around plain model and connector calls.

Every cached function takes hashable text (YAML, JSON) rather than pydantic objects, so
the cache key is exactly the question asked. The process pool lives here too, one per
server, in `st.cache_resource`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from model.queueing.run_size import SIM_REQUESTS  # noqa: F401 (the pages' run size, named here)
from streamlit_ui import state
from streamlit_ui.run_pool import RunPool
from streamlit_ui.scenarios import ScenarioText, build, changes_json

SEED = 1


@st.cache_resource(show_spinner=False)
def pool() -> RunPool:
    """One process pool for every session of this server; a session's jobs end with the session."""
    return RunPool(owner_alive=_session_alive)


def _session_alive(owner: str) -> bool:
    """Whether the session in `owner` ("SESSION_ID:kind") is still connected (True outside a server)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return True
    return Runtime.instance().is_active_session(owner.split(":", 1)[0])


def owner(kind: str) -> str | None:
    """This session's owner tag for a kind of job: its newer job of that kind supersedes the older."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return f"{ctx.session_id}:{kind}" if ctx is not None else None


@st.cache_resource(max_entries=256, show_spinner=False)
def _scenario(name: str, text: str, origin: str, changes_key: str):
    import json

    return build(ScenarioText(name, text, origin), json.loads(changes_key))


def scenario_of(st_text: ScenarioText, changes: dict[str, Any]):
    """The validated Scenario (cached), or raise model.scenario.reader.ScenarioError."""
    return _scenario(st_text.name, st_text.text, st_text.origin, changes_json(changes))


def current():
    """The scenario the sidebar names with the what-if changes applied (raises ScenarioError)."""
    return scenario_of(state.scenario(), state.changes())


def baseline():
    """The same scenario without the what-if changes."""
    return scenario_of(state.scenario(), {})


@st.cache_data(max_entries=512, show_spinner=False)
def quick_results(scenario_json: str, rate_rps: float | None = None):
    """The instant answer: the analytic solver."""
    from model.queueing.evaluate import evaluate
    from model.scenario.schema import Scenario

    return evaluate(Scenario.model_validate_json(scenario_json), "analytic", rate_rps=rate_rps)


def bottleneck(results) -> str:
    """The node with the highest utilization (the one that saturates first)."""
    from model.queueing.analytic.solver import bottleneck as model_bottleneck

    return model_bottleneck(results)


@st.cache_data(max_entries=128, show_spinner=False)
def saturation_rps(scenario_json: str) -> float:
    """The entry rate at which the busiest pool reaches 100% (offered load law)."""
    from model.planning import capacity
    from model.scenario.schema import Scenario

    return capacity.saturation_rps(Scenario.model_validate_json(scenario_json))


@st.cache_data(max_entries=128, show_spinner=False)
def latency_curve(scenario_json: str, points: int = 36) -> pd.DataFrame:
    """p50/p95/p99 against the entry rate, from light load to just below saturation (analytic)."""
    from model.planning import capacity
    from model.scenario.schema import Scenario

    return capacity.latency_curve(Scenario.model_validate_json(scenario_json), points)


@st.cache_data(max_entries=64, show_spinner=False)
def runway(scenario_json: str, months: int) -> dict:
    """`model.planning.forecast.runway`: the first month that misses the SLO and the node that gives out first."""
    from model.planning.forecast import runway as plain_runway
    from model.scenario.schema import Scenario

    month, bottleneck = plain_runway(Scenario.model_validate_json(scenario_json), months)
    return {"runway_months": month, "bottleneck": bottleneck}


@st.cache_data(max_entries=64, show_spinner=False)
def users_answer(scenario_json: str):
    """`model.planning.users.max_users`: the most users within the SLO, the knee, the users curve."""
    from model.planning.users import max_users
    from model.scenario.schema import Scenario

    return max_users(Scenario.model_validate_json(scenario_json))
