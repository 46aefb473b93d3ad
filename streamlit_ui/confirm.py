"""Confirming the instant answer by simulation, in the process pool, with a progress bar."""

from __future__ import annotations

import math
import time

import pandas as pd
import streamlit as st

from streamlit_ui import cached
from streamlit_ui.pool_jobs import recommend_job, simulate_job
from streamlit_ui.views import run_error
from model.planning.report import ms

SIM_KEY = "last_sim"  # session key: timing of this session's last simulation (for the concurrency test)


def start(scenario, requests: int = cached.SIM_REQUESTS, seed: int = cached.SEED):
    """Submit the simulation now (so it runs while the page draws the analytic answer); returns a handle."""
    pool = cached.pool()
    scenario_json = scenario.model_dump_json()
    key = pool.key("sim", scenario_json, seed, requests)
    if pool.answer(key) is not None:
        return key, None, requests, seed
    try:
        return (
            key,
            pool.submit(key, simulate_job, scenario_json, seed, requests, owner=cached.owner("sim")),
            requests,
            seed,
        )
    except Exception as exc:  # the pool could not start a worker: say so, keep the analytic answer
        run_error(exc)
        return None


def finish(handle):
    """Wait for a started simulation with a progress bar; the Results, or None after a friendly error."""
    pool = cached.pool()
    key, run, requests, seed = handle
    answer = pool.answer(key)
    if answer is None and run is not None:
        bar = st.progress(0.0, text=f"Simulating {requests:,} requests…")
        began = time.monotonic()
        try:
            answer = pool.wait(
                run,
                lambda f: bar.progress(
                    min(f, 1.0),
                    text=f"Simulating {requests:,} requests… "
                    f"{100 * f:.0f}% ({time.monotonic() - began:.1f} s)",
                ),
            )
        except Exception as exc:  # a worker failure is shown, never raised as a traceback
            bar.empty()
            run_error(exc)
            return None
        bar.empty()
    if answer is None:  # it was in the store when started, and evicted since (64 newer runs in between)
        st.warning("The simulation's answer was dropped from the shared store; press Simulate now.")
        return None
    st.session_state[SIM_KEY] = {
        "started": answer["started"],
        "finished": answer["finished"],
        "pid": answer["pid"],
    }
    seconds, where = answer["finished"] - answer["started"], f"seed {seed}, worker process {answer['pid']}"
    served = answer["results"].requests
    st.caption(
        f"Simulated {served:,} requests in {seconds:.1f} s ({where})."
        if served
        else f"Saturated, no steady state: the simulation served none of the requests it offered ({seconds:.1f} s, {where})."
    )
    # machine-readable timing for the concurrency test; invisible to people
    submitted = run.submitted if run is not None else answer["started"]  # from the store: no wait to show
    st.html(
        f'<span class="headroom-run" data-submitted="{submitted:.3f}" data-started="{answer["started"]:.3f}" '
        f'data-finished="{answer["finished"]:.3f}" data-pid="{answer["pid"]}" hidden></span>'
    )
    return answer["results"]


def simulate(scenario, requests: int = cached.SIM_REQUESTS, seed: int = cached.SEED):
    """Start and wait in one go."""
    return finish(start(scenario, requests, seed))


def comparison(quick, sim, slo) -> pd.DataFrame:
    """Analytic and simulated numbers side by side, with the simulation's 95% interval."""
    rows = []
    for key in ("p50", "p95", "p99", "mean"):
        target = getattr(slo, f"{key}_ms", None) if key != "mean" else None
        ci = (sim.latency_ci95_ms or {}).get(key)
        rows.append(
            {
                "": f"{key} latency",
                quick.method: _ms(getattr(quick.latency_ms, key)),
                "simulation": _ms(getattr(sim.latency_ms, key)),
                "simulation 95% CI": f"{ms(ci[0])} – {ms(ci[1])}"
                if ci and all(map(math.isfinite, ci))
                else "",
                "SLO": ms(target) if target else "",
            }
        )
    rows.append(
        {
            "": "errors",
            quick.method: f"{quick.error_pct:.3f}%",
            "simulation": f"{sim.error_pct:.3f}%",
            "simulation 95% CI": "",
            "SLO": f"{slo.max_error_pct:g}%" if slo.max_error_pct is not None else "",
        }
    )
    rows.append(
        {
            "": "served",
            quick.method: _served(quick.throughput_rps),
            "simulation": _served(sim.throughput_rps),
            "simulation 95% CI": "",
            "SLO": "",
        }
    )
    return pd.DataFrame(rows)


def _ms(value: float) -> str:
    return ms(value) if math.isfinite(value) else "saturated"


def _served(rps: float) -> str:
    return f"{rps:,.1f} req/s" if rps > 0 else "none (saturated)"


def recommend_key(scenario, months: int, risk: dict | None = None, seed: int = cached.SEED) -> str:
    """The pool's key for one recommendation: the scenario, the month, the seed and the risk rules."""
    risk = risk or {}
    return cached.pool().key("recommend", scenario.model_dump_json(), months, seed, sorted(risk.items()))


def recommend(scenario, months: int, seed: int = cached.SEED, risk: dict | None = None) -> dict | None:
    """model.planning.recommend's answer (JSON) run in the pool with a progress bar, or None on failure.
    `risk`: its headroom_pct, zone_loss, must_hold_rps, peak_factor (absent: the defaults)."""
    pool = cached.pool()
    scenario_json = scenario.model_dump_json()
    key = recommend_key(scenario, months, risk, seed)
    answer = pool.answer(key)
    if answer is None:
        run = pool.submit(
            key, recommend_job, scenario_json, months, seed, dict(risk or {}), owner=cached.owner("recommend")
        )
        bar = st.progress(0.0, text="Searching configurations…")
        try:
            answer = pool.wait(
                run, lambda f: bar.progress(min(f, 1.0), text=f"Searching configurations… {100 * f:.0f}%")
            )
        except Exception as exc:
            bar.empty()
            run_error(exc)
            return None
        bar.empty()
    return answer["answer"]
