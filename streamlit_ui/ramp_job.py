"""The ramp as a process-pool job (no Streamlit here: a worker imports only what the job needs)."""

from __future__ import annotations

import time
from typing import Any


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
    from model.scenario.schema import Scenario
    from streamlit_ui.run_pool import _reporter

    started = time.time()
    schedule = [(o.start_s, o.users) for o in observed] if observed else None
    answer = ramp(
        Scenario.model_validate_json(scenario_json),
        start_users,
        end_users,
        steps,
        observed[-1].duration_s if observed else step_s,
        seed=seed,
        progress=_reporter(job),
        observed=observed,
        observed_from=observed_from,
        schedule=schedule,
    )
    return {"answer": answer, "started": started, "finished": time.time()}
