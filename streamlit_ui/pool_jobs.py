"""The jobs the pool runs in its worker processes: a simulation, a timed run, a recommendation, a peak
event and a load-test ramp, each from a scenario sent as JSON, with progress through the worker's pipe.

Nothing here imports Streamlit; the model is imported inside each job, so a worker loads only what its
job needs (the fork server preloads the simulator).
"""

from __future__ import annotations

import os
import time
from typing import Any

from streamlit_ui.pool_worker import reporter


def warm(*_: Any) -> None:
    import model.queueing.evaluate  # noqa: F401


def _scenario(scenario_json: str):
    from model.scenario.schema import Scenario

    return Scenario.model_validate_json(scenario_json)


def simulate_job(job: str, scenario_json: str, seed: int, requests: int) -> dict:
    """One simulation, priced; returns the Results object and when it ran (for the overlap test)."""
    from model.queueing.evaluate import evaluate

    started = time.time()
    results = evaluate(_scenario(scenario_json), "sim", seed=seed, requests=requests, progress=reporter(job))
    return {"results": results, "started": started, "finished": time.time(), "pid": os.getpid()}


def timed_job(job: str, scenario_json: str, seed: int, duration_s: float, burst: tuple | None) -> dict:
    """A timed run (with a burst: FACTOR, START_S, LENGTH_S) through time; its Results and its JSON."""
    from model.queueing.evaluate import evaluate
    from model.queueing.sim.load_test import Burst

    results = evaluate(
        _scenario(scenario_json),
        "sim",
        seed=seed,
        duration_s=duration_s,
        burst=Burst(*burst) if burst else None,
        progress=reporter(job),
    )
    return {"results": results, "json": results.to_json()}


def recommend_job(job: str, scenario_json: str, months: int, seed: int, risk: dict | None = None) -> dict:
    """`risk`: recommend's headroom_pct, zone_loss, must_hold_rps, peak_factor (None: defaults)."""
    from model.planning.recommend import recommend

    started = time.time()
    answer = recommend(
        _scenario(scenario_json), months=months, seed=seed, progress=reporter(job), **(risk or {})
    )
    return {"answer": answer.to_json(), "started": started, "finished": time.time(), "pid": os.getpid()}


def peak_job(job: str, scenario_json: str, event: dict, target: float, seed: int) -> dict:
    """A peak event (model.planning.peak) through the HPA, simulated over its ramp."""
    from model.planning.peak import peak
    from model.planning.peak_event import PeakEvent

    started = time.time()
    result = peak(_scenario(scenario_json), PeakEvent(**event), target, seed, progress=reporter(job))
    return {"result": result, "started": started, "finished": time.time(), "pid": os.getpid()}


def ramp_job(
    job: str,
    scenario_json: str,
    start_users: int,
    end_users: int,
    steps: int,
    step_s: float,
    seed: int,
    observed: list | None = None,
    observed_from: str | None = None,
) -> dict[str, Any]:
    """`model.planning.ramp.ramp` in a worker; following the observed plateaus when there are some."""
    from model.planning.ramp import ramp

    started = time.time()
    schedule = [(o.start_s, o.users) for o in observed] if observed else None
    answer = ramp(
        _scenario(scenario_json),
        start_users,
        end_users,
        steps,
        observed[-1].duration_s if observed else step_s,
        seed=seed,
        progress=reporter(job),
        observed=observed,
        observed_from=observed_from,
        schedule=schedule,
    )
    return {"answer": answer, "started": started, "finished": time.time()}
