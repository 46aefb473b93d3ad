"""What the Cost page shows, computed once per question: the ledger, the commitment terms, the growth
band, the exports, and the frames the chart and the table draw (`st.cache_data` on text keys).

Everything here is `model.planning`'s (`ledger`, `commitments`, `export`, `growth`); this module only
caches it and shapes it for the page, so the page, `cli.py forecast` and the exports show one bill.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from model.planning.report import money


def _scenario(scenario_json: str):
    from model.scenario.schema import Scenario

    return Scenario.model_validate_json(scenario_json)


def _units(baseline_json: str) -> dict[str, int] | None:
    return json.loads(baseline_json) or None


@st.cache_data(max_entries=32, show_spinner=False)
def ledger(
    scenario_json: str,
    months: int,
    commitment: str,
    baseline_json: str,
    budget_usd: float | None,
    growth_pct: float | None,
):
    """`model.planning.ledger.ledger`: months 0..months-1 as calendar months, verdicts, budget, growth."""
    from model.planning.ledger import ledger as plain

    return plain(
        _scenario(scenario_json),
        months,
        commitment=commitment,
        baseline_units=_units(baseline_json),
        budget_usd=budget_usd,
        growth_pct=growth_pct,
    )


@st.cache_data(max_entries=32, show_spinner=False)
def plans(scenario_json: str, growth_pct: float, baseline_json: str) -> dict:
    """Both commitment terms over their full 12 and 36 months at the growth in use:
    `{term: CommitmentPlan}`, and `{term: first month missing the SLO within the term, or None}`."""
    from model.planning.commitments import TERMS, commitment_plan
    from model.planning.forecast import runway
    from model.planning.growth import with_growth

    planned = with_growth(_scenario(scenario_json), growth_pct)
    out = {t: commitment_plan(planned, t, _units(baseline_json)) for t in TERMS}
    missed, _ = runway(planned, max(TERMS.values()) - 1)
    return {"plans": out, "slo_missed_from": missed}


@st.cache_data(max_entries=32, show_spinner=False)
def band_totals(
    scenario_json: str, months: int, commitment: str, baseline_json: str, low_pct: float, high_pct: float
) -> list[tuple[float, float]]:
    """Each month's bill at the low and the high growth of the band (the fit's 90% interval)."""
    from model.planning.bill import month_bill
    from model.planning.growth import with_growth

    scenario = _scenario(scenario_json)
    units = _units(baseline_json)
    out = []
    for m in range(months):
        low, high = (
            month_bill(with_growth(scenario, g), m, commitment=commitment, baseline_units=units).monthly_usd
            for g in (low_pct, high_pct)
        )
        out.append((min(low, high), max(low, high)))
    return out


@st.cache_data(max_entries=16, show_spinner=False)
def exports(_ledger, _plan, key: str) -> tuple[str, bytes]:
    """The CSV and the Excel workbook (`model.planning.export`) of the ledger shown; `key` names it."""
    from model.planning.export import spend_csv, spend_xlsx

    return spend_csv(_ledger, _plan), spend_xlsx(_ledger, _plan)


def month_names(the_ledger) -> list[str]:
    """ "Nov 2026" for each month of the ledger."""
    return [month_name(the_ledger, m.month) for m in the_ledger.months]


def month_name(the_ledger, month: int) -> str:
    """ "Nov 2026": month `month` counted from the ledger's start (also past its horizon)."""
    from model.planning.calendar_months import month_name as plain, parse_month

    return plain(parse_month(the_ledger.start_month), month)


def verdict_text(verdict) -> str:
    """A table cell: "met", or "not a plan: " and the first reason (the full sentence is the headline's)."""
    if verdict.saturated:
        return f"not a plan: {', '.join(verdict.saturated)} saturated"
    if not verdict.slo_met:
        return "not a plan: " + (verdict.violations[0] if verdict.violations else "SLO missed")
    return "met"


def per_million(month) -> str:
    """A ledger month's cost per million requests; "—" when saturated (its requests are not served:
    the bill over the requests that arrive would read as a bargain)."""
    value = month.bill.per_million_usd
    return "—" if month.verdict.saturated or not value else money(value)


def chart_frames(the_ledger, labels: list[str], band: list[tuple[float, float]] | None):
    """(by node: label, node, monthly) and (by month: label, total, slo_met, low, high) for the chart."""
    from streamlit_ui.views import node_cost_label

    by_node, months = [], []
    for label, m, (low, high) in zip(labels, the_ledger.months, band or [(None, None)] * len(labels)):
        bill = m.bill
        for node, value in bill.cost.by_node.items():
            if value is not None:
                by_node.append({"label": label, "node": node_cost_label(bill.cost, node), "monthly": value})
        for host, value in bill.hosts.items():
            by_node.append({"label": label, "node": f"host {host}", "monthly": value})
        months.append(
            {
                "label": label,
                "total": bill.monthly_usd,
                "slo_met": m.verdict.copes,
                "low": low,
                "high": high,
            }
        )
    return pd.DataFrame(by_node), pd.DataFrame(months)


def table(the_ledger, labels: list[str], band: list[tuple[float, float]] | None) -> pd.DataFrame:
    """One row per calendar month and a totals row, as text (money to the cent), the verdict in words."""
    from model.planning.spend import COMMITMENTS

    rows = []
    for label, m in zip(labels, the_ledger.months):
        bill = m.bill
        row = {"month": label, "bill": money(bill.monthly_usd)}
        if band:
            low, high = band[m.month]
            row["bill, 90% growth band"] = f"{money(low)} to {money(high)}"
        row["SLO"] = verdict_text(m.verdict)
        row["per million requests"] = per_million(m)
        row["peak load"] = f"{bill.peak_rps:,.1f} req/s"
        row["mean load"] = f"{bill.mean_rps:,.1f} req/s"
        for c, name in COMMITMENTS.items():
            row[name if c == "on_demand" else f"with {name}"] = money(m.by_commitment[c])
        if the_ledger.budget_usd is not None:
            row["budget"] = "over" if m.over_budget else "within"
        rows.append(row)
    n = len(the_ledger.months)
    total = {k: "" for k in rows[0]}
    total.update(
        {
            "month": f"Total, {n} month{'s' if n != 1 else ''}",
            "bill": money(the_ledger.total_usd),
            "SLO": f"{the_ledger.not_a_plan_months} of {n} not a plan",
        }
    )
    for c, name in COMMITMENTS.items():
        total[name if c == "on_demand" else f"with {name}"] = money(the_ledger.total_by_commitment[c])
    if band:
        total["bill, 90% growth band"] = (
            f"{money(sum(b[0] for b in band))} to {money(sum(b[1] for b in band))}"
        )
    return pd.DataFrame(rows + [total])


def not_a_plan_rows(frame: pd.DataFrame):
    """The table styled: months whose bill is not a plan on a red ground, the totals row in bold."""

    def shade(row: pd.Series) -> list[str]:
        if str(row["month"]).startswith("Total"):
            return ["font-weight: bold"] * len(row)
        if row["SLO"] != "met":
            return ["background-color: #fdecea; color: #8a1c1c"] * len(row)
        return [""] * len(row)

    return frame.style.apply(shade, axis=1)
