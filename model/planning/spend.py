"""Month-by-month spend by node, the way `model.planning.forecast` bills it (no Streamlit here).

The forecast gives one total per month; finance wants it split by node and by commitment.
Each month is priced exactly as `model.planning.forecast._solve` prices it: autoscaled nodes at the
mean replicas their HPA runs over a day at that month's peak (`model.planning.autoscale.simulate_day`),
every other node at its configured count. A test checks the totals against the forecast.
"""

from __future__ import annotations

import io

import pandas as pd

from model.planning.autoscale import autoscaled_nodes, simulate_day
from model.pricing.cost import monthly_cost
from model.planning.load import planning_rate
from model.scenario.schema import Scenario

COMMITMENTS = {"on_demand": "on demand", "1yr": "1-year commitment", "3yr": "3-year commitment"}


def with_commitment(scenario: Scenario, commitment: str) -> Scenario:
    return scenario.model_copy(
        update={"pricing": scenario.pricing.model_copy(update={"commitment": commitment})}
    )


def monthly_spend(scenario: Scenario, months: int) -> pd.DataFrame:
    """Rows: month, rate_rps, commitment, node, monthly (USD), per_million (USD per million requests)."""
    rows = []
    scaled = bool(autoscaled_nodes(scenario))
    for m in range(months + 1):
        rate = planning_rate(scenario, m)  # a closed workload: its users' throughput
        unit_hours = simulate_day(scenario, peak_rps=rate).mean_replicas if scaled else None
        for commitment in COMMITMENTS:
            cost = monthly_cost(with_commitment(scenario, commitment), rate, unit_hours)
            requests_m = rate * 3600 * 730 / 1e6
            for node, monthly in cost.by_node.items():
                price = "unknown" if monthly is None else "estimated" if node in cost.estimated else "listed"
                label = (
                    node
                    if price == "listed"
                    else f"{node} ({'price unknown' if monthly is None else 'estimated'})"
                )
                rows.append(
                    {
                        "month": m,
                        "rate_rps": rate,
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
