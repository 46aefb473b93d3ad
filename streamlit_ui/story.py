"""One story per page: the banner follows the same verdict as the numbers beside it.

What-if's latency is computed with the replicas as set, the forecast's runway with the HPA scaling;
a page that shows both says which is which (model/planning/holding.py) and colours its banner by
one verdict: green holds, amber holds only with autoscaling or above the headroom target, red breaks.
A closed workload (users) gets the same banner on its users' verdict: past the knee N* rather
than "saturated" (its users wait; nothing grows without bound), the HPA at the replicas it
settles on for them.
"""

from __future__ import annotations

import math

import streamlit as st

from model.planning.load import planning_rate
from streamlit_ui.views import file_note, md, plural


@st.cache_data(max_entries=128, show_spinner=False)
def _holding(scenario_json: str):
    from model.planning.holding import holding
    from model.scenario.schema import Scenario

    return holding(Scenario.model_validate_json(scenario_json))


@st.cache_data(max_entries=64, show_spinner=False)
def _stretch(scenario_json: str):
    from model.planning.holding import stretch
    from model.scenario.schema import Scenario

    return stretch(Scenario.model_validate_json(scenario_json))


def whatif_banner(scenario) -> None:
    """What-if's one banner: the load holds, holds only because the HPA scales, or breaks."""
    from model.planning.holding import BREAKS, WITH_AUTOSCALING

    scenario_json = scenario.model_dump_json()
    h = _holding(scenario_json)
    fixed = h.fixed
    if h.verdict == BREAKS:
        if h.closed:  # users wait for their answers: the load cannot grow without bound
            head = "**Past the knee.** " if fixed.saturated else "**SLO missed.** "
        else:
            head = (
                "**Saturated: no steady state.** Queues and latency grow without bound. "
                if fixed.saturated
                else "**SLO missed.** "
            )
        detail = h.detail()
        remedy = (
            "plan for fewer users (the users panel below says how many hold)"
            if h.closed
            else "lower the load"
        )
        st.error(
            head + md(detail[:1].upper() + detail[1:]) + f". Add replicas or cores, or {remedy}.",
            icon=":material/warning:",
        )
        return
    if not h.replicas:
        return
    # what the replicas as set would bill beside the cost of record (the HPA hour by hour): one bill
    bill = file_note(scenario, fixed, "the replicas set here") or ""
    if h.verdict == WITH_AUTOSCALING:
        st.warning(
            f"**{h.title}.** {md(h.detail()[:1].upper() + h.detail()[1:])}. {bill}",
            icon=":material/autorenew:",
        )
        return
    held = ", ".join(f"{md(n)} {plural(hpa, 'replica')}" for n, (_s, hpa, _m) in h.replicas.items())
    load = f"{h.rate_rps:,.0f} req/s"
    if h.closed:  # what the users send with the replicas the HPA settles on
        load = f"{h.fixed.closed.users:,} users ({h.autoscaled.rate_rps:,.0f} req/s)"
    st.info(f"The HPA would hold {held} at {load}. {bill}", icon=":material/autorenew:")


def overview_banner(scenario, results, target: float) -> None:
    """Overview's SLO banner, on What-if's verdict: red breaks, amber holds only with autoscaling or
    runs a node above the headroom target, green holds within it."""
    from model.planning.holding import BREAKS, WITH_AUTOSCALING

    h = _holding(scenario.model_dump_json())
    detail = h.detail()[:1].upper() + h.detail()[1:]
    if h.verdict == BREAKS:
        head = "SLO missed" if not results.saturated else "Past the knee" if h.closed else "Saturated"
        st.error(
            f"**{head}.** {md(detail)}. Add capacity on What-if or see Right-size.", icon=":material/warning:"
        )
        return
    if h.verdict == WITH_AUTOSCALING:
        st.warning(f"**{h.title}.** {md(detail)}.", icon=":material/autorenew:")
        return
    hot = [(n, s.utilization) for n, s in results.nodes.items() if s.utilization > target + 1e-9]
    if hot:
        nodes = ", ".join(f"**{md(n)}** at {100 * u:.0f}%" for n, u in hot)
        st.warning(
            f"Every SLO target is met, but {nodes} busy is above the {target:.0%} headroom target: "
            "a spike or a lost zone would push it over. See Right-size.",
            icon=":material/warning:",
        )
        return
    st.success(
        f"Every SLO target is met, every node within the {target:.0%} headroom target.",
        icon=":material/check_circle:",
    )


def _runway_text(months: int | None, horizon: int) -> str:
    if months is None:
        return f"> {horizon} months"
    return "none: missed today" if months == 0 else f"{months} month{'s' if months != 1 else ''}"


def stretch_table(scenario) -> None:
    """Saturation and runway side by side, each column on its assumption (replicas as set / HPA to max)."""
    rows = _stretch(scenario.model_dump_json())
    rate = planning_rate(scenario)  # a closed workload: what its users send
    horizon = scenario.workload.horizon_months
    autoscaled = {
        n: node.autoscale.max for n, node in scenario.nodes.items() if getattr(node, "autoscale", None)
    }
    head = ["", *(r.assumption for r in rows)]

    def cell(name: str) -> str:  # a node name inside a Markdown table cell
        return md(name).replace("|", "\\|")

    if autoscaled and len(rows) > 1:
        head[2] = "HPA scaling (" + ", ".join(f"{cell(n)} up to {m}" for n, m in autoscaled.items()) + ")"
        sets = ", ".join(f"{cell(n)} {scenario.nodes[n].replicas}" for n in autoscaled)
        head[1] = f"replicas as set ({sets}, fixed)"

    def saturates(r) -> str:
        if not math.isfinite(r.saturation_rps):
            return "never"
        return f"{r.saturation_rps:,.0f} req/s ({r.saturation_rps / rate:,.1f}× today)"

    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        "| saturates at | " + " | ".join(saturates(r) for r in rows) + " |",
        "| runway (SLO met until) | "
        + " | ".join(_runway_text(r.runway_months, horizon) for r in rows)
        + " |",
    ]
    st.markdown("\n".join(lines))
    if len(rows) > 1:
        st.caption(
            "The headline runway lets the HPA scale (as the forecast does); the left column holds today's "
            "replicas fixed, as the latency numbers on this page do."
        )
