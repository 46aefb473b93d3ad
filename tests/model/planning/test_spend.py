"""Spend by node and commitment: the forecast's totals, and an Excel export that opens."""

from __future__ import annotations

from pathlib import Path

from model.planning import spend
from model.scenario.reader import load_scenario, scenario_from_text

ROOT = Path(__file__).resolve().parents[3]


def test_spend_totals_are_the_forecasts_and_commitments_are_cheaper():
    from model.planning.forecast import forecast

    scenario = load_scenario(ROOT / "scenarios" / "checkout.yaml")
    frame = spend.monthly_spend(scenario, 6)
    wide = spend.totals(frame)
    months = forecast(scenario, 6).to_json()["months"]
    assert [round(v, 2) for v in wide["on_demand"]] == [m["monthly"] for m in months]
    assert (wide["3yr"] < wide["1yr"]).all() and (wide["1yr"] < wide["on_demand"]).all()


def test_excel_export_opens_in_openpyxl():
    import io

    import openpyxl

    scenario = scenario_from_text((ROOT / "scenarios" / "checkout.yaml").read_text())
    frame = spend.monthly_spend(scenario, 2)
    book = openpyxl.load_workbook(
        io.BytesIO(spend.excel_bytes({"totals": spend.totals(frame), "detail": frame}))
    )
    assert book.sheetnames == ["totals", "detail"] and book["detail"].max_row == len(frame) + 1
