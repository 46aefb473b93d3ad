"""Right-size's risk: the rules it searches by (headroom, zone loss, a known peak), the verdict, the
grade of every option, and the button that takes an option to What-if.

The rules and grades are model.planning.risk's; this module only reads widgets and draws. The
settings live in session state (`streamlit_ui.state`: `headroom_pct`, `zone_loss`, `peak_event`)
so that Overview colours its service graph by the same headroom target.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from model.planning.report import money
from streamlit_ui import state
from streamlit_ui.views import md

HEADROOM_KEY, ZONE_KEY = "rs-headroom", "rs-zone-loss"
LEVEL_ICONS = {"low": ":material/verified:", "medium": ":material/warning:", "high": ":material/error:"}


def settings(scenario) -> dict[str, Any]:
    """The rules' widgets; returns recommend's risk arguments (None where the default applies)."""
    from model.planning.risk import production_like

    if HEADROOM_KEY not in st.session_state:
        st.session_state[HEADROOM_KEY] = int(state.headroom_pct())
    auto_zone = production_like(scenario)
    chosen = st.session_state.get(state.ZONE_LOSS)
    if chosen is None or ZONE_KEY not in st.session_state:  # untouched: follows the scenario open
        st.session_state[ZONE_KEY] = auto_zone if chosen is None else chosen
    c1, c2 = st.columns([2, 1])
    c1.slider(
        "Headroom target: no pool busier than",
        min_value=50,
        max_value=100,
        step=5,
        key=HEADROOM_KEY,
        format="%d%%",
        on_change=lambda: st.session_state.__setitem__(state.HEADROOM, float(st.session_state[HEADROOM_KEY])),
        help="The busiest pool's utilization at the planned load (an autoscaled service: its HPA target). "
        "Overview's service graph draws nodes above it amber. 100% turns the rule off.",
    )
    c2.toggle(
        "Survive losing a zone",
        key=ZONE_KEY,
        on_change=lambda: st.session_state.__setitem__(state.ZONE_LOSS, bool(st.session_state[ZONE_KEY])),
        help="The SLO still met right after a third of every node's units is lost. On by default for a "
        "production-like scenario (an SLO, and some node run redundantly)"
        + (": this one is." if auto_zone else ": this one is not."),
    )
    factor = state.peak_factor()
    observed = scenario.workload.observed_peak_rps
    if factor is not None:
        event = st.session_state.get(state.PEAK_EVENT) or {}
        days = event.get("days")
        st.caption(
            f"Must also hold the declared peak event: {factor:g}× the load"
            + (f" for {days:g} day{'s' if days != 1 else ''}" if isinstance(days, (int, float)) else "")
            + " (the SLO met at its plateau, the HPA scaled to hold it)."
        )
    elif observed is not None:
        st.caption(f"Must also hold the observed peak of {observed:,.0f} req/s (workload.observed_peak_rps).")
    return {
        "headroom_pct": float(st.session_state[HEADROOM_KEY]),
        "zone_loss": None
        if chosen is None and st.session_state[ZONE_KEY] == auto_zone
        else st.session_state[ZONE_KEY],
        "peak_factor": factor,
    }


def _why(risk: dict | None, count: int = 3, capital: bool = True) -> str:
    """The first reasons, as one sentence (or the rest of one)."""
    text = "; ".join(md(r) for r in (risk or {}).get("reasons", [])[:count])
    return (text[:1].upper() if capital else text[:1]) + text[1:]


def verdict(answer: dict) -> None:
    """The recommendation in one banner, coloured by the same verdict as the numbers."""
    text = md(answer.get("verdict") or "")
    saving = answer["baseline_monthly"] - answer["monthly"]
    risk = answer.get("risk") or {}
    if not answer["slo"]["met"]:
        st.error(text + " " + "; ".join(md(v) for v in answer["slo"]["violations"]), icon=":material/error:")
    elif not answer.get("safe", True):
        st.error(text, icon=":material/error:")
    elif saving < -0.005 or risk.get("level") != "low":
        st.warning(text, icon=":material/warning:")
    else:
        st.success(text, icon=":material/verified:")
    if risk.get("level"):
        st.markdown(f"**Risk: {risk['level']}.** {_why(risk, 4)}.")
    today = answer.get("baseline_risk")
    if today:
        st.markdown(f"**Today's setup: {today['level']} risk.** {_why(today, 2)}.")
    riskier = answer.get("riskier_cheaper")
    if riskier:
        changes = ", ".join(f"`{k.removeprefix('nodes.')}` = {md(v)}" for k, v in riskier["changes"].items())
        saves = riskier["savings_monthly"]
        st.caption(
            f"Not offered: {changes or 'no change'} ({money(riskier['monthly'])} a month"
            + (f", saving {money(saves)}" if saves > 0 else "")
            + f") meets the SLO but is {riskier['risk']['level']} risk: {_why(riskier['risk'], 2, capital=False)}."
        )


def runner_risk(runner: dict) -> str:
    """A runner-up's grade; above low, with what raised it."""
    risk = runner.get("risk") or {}
    level = risk.get("level")
    if not level:
        return "—"
    return level if level == "low" else f"{level}: {(risk.get('reasons') or [''])[0]}"


def try_on_whatif(changes: dict[str, Any]) -> None:
    """Apply the option on top of the changes in effect and open What-if with it."""
    state.set_scenario(state.scenario(), {**state.changes(), **changes})
    st.switch_page("pages/whatif.py")
