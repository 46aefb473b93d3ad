"""Month-by-month spend by node and commitment as a frame (pandas; the Cost page's table and chart).

Every value is the cost of record (`model.planning.bill.month_bill`), under each commitment as
finance buys it (a baseline committed, the rest on demand), so its on-demand totals are the
forecast's `monthly`. For calendar months, verdicts, budget and totals use
`model.planning.ledger`; for files, `model.planning.export`.
"""

from __future__ import annotations

import io

import pandas as pd

from model.planning.bill import month_bill
from model.scenario.schema import Scenario

COMMITMENTS = {"on_demand": "on demand", "1yr": "1-year commitment", "3yr": "3-year commitment"}


def with_commitment(scenario: Scenario, commitment: str) -> Scenario:
    return scenario.model_copy(
        update={"pricing": scenario.pricing.model_copy(update={"commitment": commitment})}
    )


def monthly_spend(scenario: Scenario, months: int) -> pd.DataFrame:
    """Rows: month (0..months, as the forecast's), rate_rps (the month's peak), commitment, node, price,
    monthly (USD), per_million (USD per million requests of the month: its mean rate x 730 h)."""
    rows = []
    for m in range(months + 1):
        for commitment in COMMITMENTS:
            bill = month_bill(scenario, m, commitment=commitment)
            requests_m = bill.requests / 1e6
            for node, monthly in bill.cost.by_node.items():
                price = (
                    "unknown" if monthly is None else "estimated" if node in bill.cost.estimated else "listed"
                )
                label = (
                    node
                    if price == "listed"
                    else f"{node} ({'price unknown' if monthly is None else 'estimated'})"
                )
                rows.append(
                    {
                        "month": m,
                        "rate_rps": bill.peak_rps,
                        "commitment": commitment,
                        "node": label,
                        "price": price,
                        "monthly": monthly,
                        "per_million": monthly / requests_m if requests_m and monthly is not None else None,
                    }
                )
    return pd.DataFrame(rows)


def totals(spend: pd.DataFrame) -> pd.DataFrame:
    """One row per month: load, and the total bill under each commitment (columns on_demand, 1yr, 3yr)."""
    wide = spend.pivot_table(
        index=["month", "rate_rps"], columns="commitment", values="monthly", aggfunc="sum"
    )
    wide = wide[[c for c in COMMITMENTS if c in wide.columns]].reset_index()
    wide.columns.name = None
    return wide


def excel_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook (openpyxl) with one sheet per frame."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()
