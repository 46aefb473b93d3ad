""" "Cost this month" on every page: the cost of record (`model.planning.bill`), shown one way.

Overview, What-if, Cost, Right-size and Compare all show the same number for the same scenario,
`bill.this_month`, the number `cli.py forecast` prints for month 0, under one label. A view that
also shows a bill priced some other way (the replicas written in the file, all month, which is
what the latency beside it assumes) says so beside it (`views.file_note`), and a bill for a system that
does not cope (SLO missed, saturated) carries that verdict in the same metric, in red: never a
normal-looking bill on its own.
"""

from __future__ import annotations

import streamlit as st

from model.planning.report import money

LABEL = "Cost this month"


def definition() -> str:
    from model.planning.bill import DEFINITION

    return DEFINITION


@st.cache_data(max_entries=256, show_spinner=False)
def this_month(scenario_json: str):
    """`model.planning.bill.this_month` (a `MonthBill`), cached by the scenario's JSON."""
    from model.planning.bill import this_month as plain
    from model.scenario.schema import Scenario

    return plain(Scenario.model_validate_json(scenario_json))


@st.cache_data(max_entries=256, show_spinner=False)
def verdict(scenario_json: str):
    """This month's `model.planning.verdict.Verdict`: the billed configuration (autoscaled nodes at the
    replicas their HPA holds at the peak) solved at the month's peak, as the Cost page's month 0."""
    from model.planning.verdict import month_verdict
    from model.scenario.schema import Scenario

    scenario = Scenario.model_validate_json(scenario_json)
    return month_verdict(scenario, this_month(scenario_json).peak_rps)


def not_a_plan(scenario) -> str | None:
    """The short verdict this month's bill carries when the system does not cope, else None."""
    v = verdict(scenario.model_dump_json())
    if v.saturated:
        return "not a plan: saturated"
    if not v.slo_met:
        return "not a plan: SLO missed"
    return None


def metric(where, scenario, before=None, changed: bool = False) -> None:
    """The "Cost this month" metric: the cost of record, and beside it the verdict (red) when the
    system does not cope, else the change against `before` (the file's own) when `changed`, else the
    cost per million requests served."""
    bill = this_month(scenario.model_dump_json())
    verdict = not_a_plan(scenario)
    delta, colour, arrow = None, "off", "off"
    if verdict:
        delta, colour = verdict, "inverse"
    elif changed and before is not None:
        change = bill.monthly_usd - this_month(before.model_dump_json()).monthly_usd
        if round(change, 2):
            delta, colour, arrow = (
                f"{'+' if change > 0 else '-'}{money(abs(change))} vs file",
                "inverse",
                "auto",
            )
        else:
            delta = "same as the file"
    elif bill.per_million_usd:
        delta = f"{money(bill.per_million_usd)} per million requests"
    where.metric(
        LABEL,
        money(bill.monthly_usd, bill.currency),
        delta,
        delta_color=colour,
        delta_arrow=arrow,
        border=True,
        help=definition()
        + f" {scenario.pricing.provider} {scenario.pricing.region}, "
        + f"{scenario.pricing.commitment.replace('_', ' ')} prices. Per million requests: the bill over "
        "the requests the month serves (its mean rate over the traffic shape, not the peak).",
    )


def dollars(text: str) -> str:
    """Money in Markdown: two `$` on a line would open LaTeX in Streamlit."""
    return text.replace("$", "\\$")
