"""What a new user trips over, checked page by page: the sidebar names the data source the page
just read (not the last run's), and a closed workload's peak is explained in users."""

from __future__ import annotations

from tests.app.apptools import app, no_errors
from tests.app.test_observe_csv import engineer_files


def _sidebar_source(at) -> str:
    captions = [c.value for c in at.sidebar.caption]
    return next(c for c in captions if "series" in c or "Demo" in c or "CSV" in c)


def test_the_sidebar_names_the_csv_in_the_run_that_reads_it():
    at = app("observe")
    assert _sidebar_source(at).startswith("Demo")  # the demo source, read on the first visit
    at.segmented_control(key="obs-source").set_value("csv").run()
    at.get("file_uploader")[0].set_value(engineer_files()).run()
    no_errors(at)
    source = _sidebar_source(at)
    assert source.startswith("CSV upload (elb_requests.csv, metrics.csv): 4 series"), source


def test_a_closed_workloads_peak_is_explained_in_users():
    at = app("peak", params={"scenario": "checkout-users"})
    no_errors(at)
    help_text = at.number_input(key="pk-factor").help
    assert "what the workload's 150 users send today" in help_text and "workload.rate_rps" not in help_text


def test_what_ifs_error_box_says_the_verdict_before_the_drops():
    """Five metrics across 1440 px cut the end of a delta: the SLO verdict comes first."""
    at = app("whatif")
    at.toggle(key="wi-auto-sim").set_value(False).run()
    no_errors(at)
    errors = next(m for m in at.metric if m.label == "Errors")
    assert errors.delta.startswith("SLO met · drops "), errors.delta


def test_a_latency_of_seconds_fits_its_box_with_its_unit():
    """600 users past the knee: p99 2,253.5 ms reads 2.25 s (was cut to "2,253.5 …")."""
    from model.queueing.evaluate import evaluate
    from model.scenario.reader import load_scenario
    from tests.app.apptools import ROOT, metric

    at = app("whatif", params={"scenario": "checkout-users", "set": "workload.users=600"})
    at.toggle(key="wi-auto-sim").set_value(False).run()
    p99 = evaluate(
        load_scenario(ROOT / "scenarios" / "checkout-users.yaml", users=600), "analytic"
    ).latency_ms.p99
    assert p99 > 1000
    assert metric(at, "p99 latency") == f"{p99 / 1000:,.2f} s"
