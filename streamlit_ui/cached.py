"""The page edge: `st.cache_*` wrappers around plain model and connector calls.

Every cached function takes hashable text (YAML, JSON) rather than pydantic objects, so
the cache key is exactly the question asked. The process pool lives here too, one per
server, in `st.cache_resource`.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from streamlit_ui import state
from streamlit_ui.run_pool import RunPool
from streamlit_ui.scenarios import ScenarioText, build, changes_json

SIM_REQUESTS = 50_000
SEED = 1


@st.cache_resource(show_spinner=False)
def pool() -> RunPool:
    """One process pool for every session of this server."""
    return RunPool()


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
    from model.queueing.offered_load import offered_load
    from model.scenario.schema import Scenario
    from model.queueing.topology import build_stations

    scenario = Scenario.model_validate_json(scenario_json)
    per_rps = max((p.utilization for p in offered_load(scenario, build_stations(scenario), 1.0)), default=0.0)
    return 1.0 / per_rps if per_rps > 0 else math.inf


@st.cache_data(max_entries=128, show_spinner=False)
def latency_curve(scenario_json: str, points: int = 36) -> pd.DataFrame:
    """p50/p95/p99 against the entry rate, from light load to just below saturation (analytic)."""
    from model.queueing.evaluate import evaluate
    from model.scenario.schema import Scenario

    scenario = Scenario.model_validate_json(scenario_json)
    top = saturation_rps(scenario_json)
    if not math.isfinite(top):
        top = 4 * scenario.workload.rate_rps
    rates = [top * (0.05 + 0.94 * (k / (points - 1)) ** 0.6) for k in range(points)]
    rows = []
    for rate in rates:
        r = evaluate(scenario, "analytic", rate_rps=rate)
        for name, value in (("p50", r.latency_ms.p50), ("p95", r.latency_ms.p95), ("p99", r.latency_ms.p99)):
            rows.append({"rate_rps": rate, "percentile": name, "latency_ms": float(value)})
    frame = pd.DataFrame(rows)
    return frame[frame["latency_ms"].apply(math.isfinite)]


@st.cache_data(max_entries=64, show_spinner=False)
def runway(scenario_json: str, months: int) -> dict:
    """`model.planning.forecast.runway`: the first month that misses the SLO and the node that gives out first."""
    from model.planning.forecast import runway as plain_runway
    from model.scenario.schema import Scenario

    month, bottleneck = plain_runway(Scenario.model_validate_json(scenario_json), months)
    return {"runway_months": month, "bottleneck": bottleneck}


@st.cache_data(max_entries=64, show_spinner=False)
def monthly_by_commitment(scenario_json: str, throughput_rps: float) -> dict[str, dict]:
    """The monthly bill (contract `cost` object) on demand, with 1-year and 3-year commitments."""
    from model.pricing.cost import monthly_cost
    from model.scenario.schema import Scenario

    scenario = Scenario.model_validate_json(scenario_json)
    out = {}
    for commitment in ("on_demand", "1yr", "3yr"):
        pricing = scenario.pricing.model_copy(update={"commitment": commitment})
        out[commitment] = monthly_cost(scenario.model_copy(update={"pricing": pricing}), throughput_rps).to_json()
    return out
