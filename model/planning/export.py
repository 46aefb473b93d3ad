"""Spend exports finance can use: CSV and Excel of a `ledger.Ledger` (pandas and openpyxl, imported
here only; no CLI command that does not export loads this module).

One row per calendar month (month 0 is the ledger's start month; a horizon of N months is N rows),
money rounded to cents, a totals row, a column per node and per commitment, and each month's SLO
verdict. What the numbers assume (price source and date, region, commitment model, growth and its
source and interval, the cost definition) is an "Assumptions" sheet in Excel and a `#` header block
in CSV.

API (stable names): `spend_frame(ledger) -> DataFrame`, `assumptions(ledger, plan=None) ->
list[tuple[str, str]]`, `spend_csv(ledger, plan=None) -> str`, `spend_xlsx(ledger, plan=None) ->
bytes`, `commitment_frame(plan) -> DataFrame`, `TOTAL_LABEL`.
"""

from __future__ import annotations

import io

import pandas as pd

from model.planning.bill import DEFINITION
from model.planning.commitments import CommitmentPlan
from model.planning.ledger import Ledger
from model.planning.spend import COMMITMENTS

TOTAL_LABEL = "Total"


def _cents(value: float | None) -> float | None:
    return None if value is None else round(float(value) + 0.0, 2)


def spend_frame(ledger: Ledger) -> pd.DataFrame:
    """Months as rows, then a totals row (sums of the money and of the requests; rates left empty)."""
    rows = []
    for m in ledger.months:
        bill = m.bill
        row: dict = {
            "month": m.calendar_month,
            "month_index": m.month,
            "peak_rps": round(bill.peak_rps, 3),
            "mean_rps": round(bill.mean_rps, 3),
            "requests_millions": round(bill.requests / 1e6, 3),
        }
        for node, nb in bill.nodes.items():
            row[f"{node} (USD)"] = _cents(nb.monthly_usd)
        for host, usd in bill.hosts.items():
            row[f"host {host} (USD)"] = _cents(usd)
        row[f"total, {ledger.commitment} (USD)"] = _cents(bill.monthly_usd)
        row["per million requests (USD)"] = (
            None if bill.per_million_usd is None else round(bill.per_million_usd, 4)
        )
        for c in COMMITMENTS:
            row[f"all {c} (USD)" if c == "on_demand" else f"with {c} commitment (USD)"] = _cents(
                m.by_commitment[c]
            )
        row["SLO"] = m.verdict.message or "met"
        if ledger.budget_usd is not None:
            row["over budget"] = bool(m.over_budget)
        rows.append(row)
    frame = pd.DataFrame(rows)
    total: dict = {column: None for column in frame.columns}
    total["month"] = TOTAL_LABEL
    total["requests_millions"] = round(float(frame["requests_millions"].sum()), 3)
    for column in frame.columns:
        if column.endswith("(USD)") and not column.startswith("per million"):
            total[column] = _cents(frame[column].sum(min_count=1))
    months = len(ledger.months)
    total["SLO"] = (
        f"{ledger.not_a_plan_months} of {months} months not a plan ({ledger.slo_missed_months} miss the SLO)"
    )
    if ledger.budget_usd is not None:
        first = ledger.first_over_budget
        total["over budget"] = None if first is None else f"first {first.calendar_month}"
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)


def commitment_frame(plan: CommitmentPlan) -> pd.DataFrame:
    rows = [
        {
            "month_index": m.month,
            "all on demand (USD)": _cents(m.on_demand_usd),
            f"with {plan.term} commitment (USD)": _cents(m.with_commitment_usd),
            "of which committed (USD)": _cents(m.committed_usd),
            "unit-hours used": round(m.used_hours, 2),
            "covered by the commitment": round(m.covered_hours, 2),
        }
        for m in plan.months
    ]
    frame = pd.DataFrame(rows)
    total = {
        c: (_cents(frame[c].sum()) if c.endswith("(USD)") else round(float(frame[c].sum()), 2)) for c in frame
    }
    total["month_index"] = TOTAL_LABEL
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)


def assumptions(ledger: Ledger, plan: CommitmentPlan | None = None) -> list[tuple[str, str]]:
    first, last = ledger.months[0], ledger.months[-1]
    items = [
        ("scenario", ledger.scenario),
        (
            "months",
            f"{first.calendar_month} to {last.calendar_month} ({len(ledger.months)} months; month 0 is {first.calendar_month})",
        ),
        ("cost definition", DEFINITION),
        (
            "price source",
            "public list prices, before taxes, credits and negotiated discounts (data/prices.csv)",
        ),
        ("price date", ledger.price_as_of),
        ("provider and region", f"{ledger.provider} {ledger.region}"),
        ("currency", ledger.currency),
        (
            "commitment model",
            "on demand: every hour at the on-demand price"
            if ledger.commitment == "on_demand"
            else f"{ledger.commitment}: a steady baseline of units per node committed for the whole term "
            "(billed every hour, used or not), usage above it on demand",
        ),
        ("commitment baseline (units)", _baseline_text(ledger)),
        ("growth", ledger.growth.sentence()),
        ("growth source", ledger.growth.source),
        (
            "growth 90% interval",
            "none (not fitted)"
            if ledger.growth.band_pct is None
            else f"{ledger.growth.band_pct[0]:g}% to {ledger.growth.band_pct[1]:g}% a month",
        ),
        (
            "budget",
            "none" if ledger.budget_usd is None else f"{ledger.budget_usd:,.2f} {ledger.currency} a month",
        ),
        (
            "months not a plan",
            f"{ledger.not_a_plan_months} of {len(ledger.months)} (SLO missed or saturated)",
        ),
    ]
    items += [(f"SLO {m.calendar_month}", m.verdict.message or "met") for m in ledger.months]
    if plan is not None:
        items += [
            (f"{plan.term} commitment term", f"{plan.term_months} months from {first.calendar_month}"),
            (f"{plan.term} coverage", f"{100 * plan.coverage:.1f}% of the unit-hours used"),
            (f"{plan.term} utilization", f"{100 * plan.utilization:.1f}% of the committed unit-hours"),
            (f"{plan.term} savings over the term", f"{plan.savings_usd:,.2f} {ledger.currency}"),
            (
                f"{plan.term} break-even",
                "never within the term"
                if plan.break_even_month is None
                else f"by the end of month {plan.break_even_month}",
            ),
        ]
    return items


def _baseline_text(ledger: Ledger) -> str:
    bill = ledger.months[0].bill
    if ledger.commitment == "on_demand":
        return "none"
    return ", ".join(f"{n} {b.committed_units}" for n, b in bill.nodes.items())


def spend_csv(ledger: Ledger, plan: CommitmentPlan | None = None) -> str:
    """The assumptions as `# key: value` lines, a blank comment line, then the table."""
    head = "".join(f"# {k}: {v}\n" for k, v in assumptions(ledger, plan)) + "#\n"
    return head + spend_frame(ledger).to_csv(index=False)


def spend_xlsx(ledger: Ledger, plan: CommitmentPlan | None = None) -> bytes:
    """Sheets: Spend (the table), Commitment (with a plan), Assumptions. Money cells show cents."""
    buffer = io.BytesIO()
    sheets = {"Spend": spend_frame(ledger)}
    if plan is not None:
        sheets["Commitment"] = commitment_frame(plan)
    sheets["Assumptions"] = pd.DataFrame(assumptions(ledger, plan), columns=["assumption", "value"])
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for col, column in enumerate(frame.columns, start=1):
                width = max(12, min(60, len(str(column)) + 2))
                sheet.column_dimensions[sheet.cell(row=1, column=col).column_letter].width = width
                if str(column).endswith("(USD)"):
                    for row in range(2, len(frame) + 2):
                        sheet.cell(row=row, column=col).number_format = "#,##0.00"
    return buffer.getvalue()
