"""The Cost page under AppTest: the ledger's numbers, months that are not a plan, the budget, commitments
over their term, the fitted growth and its override, and the controls carried by the link."""

from __future__ import annotations

from model.planning.calendar_months import month_name, parse_month
from model.planning.commitments import commitment_plan
from model.planning.ledger import ledger
from model.planning.report import money
from model.scenario.reader import load_scenario
from streamlit_ui.cost_record import LABEL
from tests.app.apptools import ROOT, app, metric, no_errors

DEMO = ROOT / "scenarios" / "checkout.yaml"
FIT = '{"pct_per_month": 9.0, "low_pct": 7.4, "high_pct": 10.5, "days": 14}'


def _names(the_ledger) -> list[str]:
    start = parse_month(the_ledger.start_month)
    return [month_name(start, m.month) for m in the_ledger.months]


def _frame(at):
    return at.dataframe[0].value


def test_the_headline_is_the_ledger_of_the_horizon():
    at = app("cost")
    no_errors(at)
    plan = ledger(load_scenario(DEMO))
    names = _names(plan)
    assert len(plan.months) == 12
    assert metric(at, LABEL) == money(plan.months[0].bill.monthly_usd)
    assert metric(at, f"{names[-1]} (month 11)") == money(plan.months[-1].bill.monthly_usd)
    assert metric(at, "Total over 12 months") == money(plan.total_usd)
    assert metric(at, "Per million requests") == money(plan.months[0].bill.per_million_usd)
    table = _frame(at)
    assert list(table["month"][:-1]) == names and table["month"].iloc[-1] == "Total, 12 months"
    assert table["bill"].iloc[-1] == money(plan.total_usd)
    assert any("Cost of record" in c.value and "instance-hours" in c.value for c in at.caption)


def test_months_that_miss_the_slo_are_counted_marked_and_exported():
    at = app("cost", params={"cost_horizon": "36"})
    assert not at.exception  # the not-a-plan headline is an st.error
    plan = ledger(load_scenario(DEMO), 36)
    bad = plan.not_a_plan_months
    assert 0 < bad < 36, "checkout at 8% a month should miss its SLO within three years"
    first = next(m for m in plan.months if not m.verdict.copes)
    headline = [e.value for e in at.error if "not a plan" in e.value]
    assert headline and f"{bad} of 36 months are not a plan" in headline[0]
    assert _names(plan)[first.month] in headline[0]
    table = _frame(at)
    missed = table[table["SLO"].str.startswith("not a plan:")]
    assert len(missed) == bad and list(missed["month"])[0] == _names(plan)[first.month]
    assert table["SLO"].iloc[-1] == f"{bad} of 36 not a plan"
    spec = at.get("vega_lite_chart")[0].proto.spec  # the labels are data (sent apart); the marks are here
    assert '"SLO missed"' in spec and '"stroke": "#c62828"' in spec and '"type": "rule"' in spec


def test_the_budget_names_the_first_month_over_it():
    at = app("cost", params={"cost_budget": "1600"})
    no_errors(at)
    plan = ledger(load_scenario(DEMO), budget_usd=1600.0)
    over = plan.first_over_budget
    assert over is not None
    warning = [w.value for w in at.warning if "Over budget" in w.value]
    assert warning and f"Over budget from {_names(plan)[over.month]}" in warning[0]


def test_commitments_show_the_full_term():
    at = app("cost", params={"cost_commitment": "3yr"})
    no_errors(at)
    scenario = load_scenario(DEMO)
    for term, months in (("1yr", 12), ("3yr", 36)):
        plan = commitment_plan(scenario, term)
        assert metric(at, f"{months}-month ({term}) commitment") == money(abs(plan.savings_usd))
    text = " ".join(m.value for m in at.markdown)
    assert "Coverage" in text and "utilization" in text and ("breaks even" in text or "never pays" in text)
    assert metric(at, LABEL) == money(ledger(scenario, commitment="3yr").months[0].bill.monthly_usd)


def test_controls_go_into_the_link_and_come_back():
    at = app("cost")
    at.slider(key="cost:horizon").set_value(24).run()
    at.number_input(key="cost:budget").set_value(2500.0).run()
    assert not at.exception
    assert at.query_params["cost_horizon"] in ("24", ["24"])
    assert at.query_params["cost_budget"] in ("2500", ["2500"])
    assert metric(at, "Total over 24 months")
    again = app("cost", params={"cost_horizon": "24", "cost_budget": "2500"})
    assert metric(again, "Total over 24 months") == metric(at, "Total over 24 months")


def test_a_bad_link_value_is_ignored_with_a_note():
    at = app(params={"cost_budget": "1e999", "cost_horizon": "6"})
    assert any("cost_budget" in i.value and "expected a number" in i.value for i in at.info)
    at.switch_page("pages/cost.py").run()
    no_errors(at)
    assert metric(at, "Total over 6 months")


def test_hostile_cost_values_in_a_link_are_refused_quickly_and_the_page_opens():
    at = app(
        params={
            "cost_baseline": ['{"web": 2, "ghost": 3}', "{" * 9000],
            "cost_horizon": "99999999999",
            "cost_growth": "NaN",
        }
    )
    notes = " ".join(i.value for i in at.info)
    assert "cost_baseline" in notes and "cost_horizon" in notes and "cost_growth" in notes
    assert len(notes) < 2000  # quoted cut short
    at.switch_page("pages/cost.py").run()
    no_errors(at)
    assert metric(at, "Total over 12 months")


def test_a_fitted_growth_is_used_with_its_band_and_can_be_overridden():
    fitted = {
        "scenario": "checkout",
        "set": [f"workload.growth_fit={FIT}", "workload.growth_pct_per_month=9"],
    }
    at = app("cost", params=fitted)
    no_errors(at)
    assert any("fitted from 14 days" in c.value and "90% band" in c.value for c in at.caption)
    assert "bill, 90% growth band" in _frame(at).columns
    at = app("cost", params={**fitted, "cost_growth": "5"})
    no_errors(at)
    assert any("set by the user" in c.value for c in at.caption)
    assert "bill, 90% growth band" not in _frame(at).columns
    scenario = load_scenario(DEMO, [f"workload.growth_fit={FIT}", "workload.growth_pct_per_month=9"])
    assert metric(at, "Total over 12 months") == money(ledger(scenario, growth_pct=5.0).total_usd)
