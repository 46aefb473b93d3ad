"""The fit on a load test (issue 11): phases, units, and what it recovers of a known truth.

The data are generated (tests/model/fit/loadtest_truth.py): one-second samples of four steady
phases, one of them at another hit ratio, CPU by the utilization law with noise, latency
statistics from the analytic solver of the true scenario plus a fixed network delay. Every
recovery below is truth against the fitted value's own 95 % interval.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.fit.pipeline import fit_scenario
from model.fit.phases import detect_phases
from model.fit.errors import FitError
from model.scenario.reader import scenario_from_data
from model.queueing.evaluate import evaluate
from tests.model.fit.loadtest_truth import Truth, write

ROOT = Path(__file__).resolve().parents[3]


def within(est: dict | object, truth: float) -> bool:
    lo, hi = est["ci95"] if isinstance(est, dict) else est
    return lo <= truth <= hi


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lt")
    path, truth, spans = write(tmp)
    return path, truth, spans, fit_scenario(str(path))


def test_cli_fit_json_needs_no_out_and_speaks_of_phases(base):
    path, truth, spans, _ = base
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "fit", "--config", str(path), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["fit"]
    assert report["out"] is None and report["fitted_scenario"]["nodes"]["web"]["kind"] == "service"
    load = report["load"]
    assert load["mode"] == "load_test" and len(load["phases"]) == 4
    for phase, (start, end) in zip(
        load["phases"], spans
    ):  # detected within the settle time and smoothing of the truth
        assert abs((pd.Timestamp(phase["start"], tz="UTC") - start).total_seconds()) <= 25
        assert abs((pd.Timestamp(phase["end"], tz="UTC") - end).total_seconds()) <= 25
    assert report["window"]["period_s"] == 1
    assert report["backtest"]["skipped"] is None and report["backtest"]["test"].startswith("phase 4")
    assert report["fitted_scenario"]["workload"]["rate_rps"] == pytest.approx(
        load["phases"][2]["mean_rps"], rel=1e-3
    )
    text = subprocess.run(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "fit",
            "--config",
            str(path),
            "--out",
            str(path.parent / "fitted.yaml"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    ).stdout
    assert "load test" in text and "phase 3" in text
    for talk in ("busiest hour", "day(s)", "growth +", "-7.0"):
        assert talk not in text
    assert "service_cv" in (path.parent / "fitted.yaml").read_text()


def test_recovers_the_known_truth(base):
    _, truth, _, result = base
    nodes = result.to_json()["nodes"]
    web, db = nodes["web"]["values"], nodes["db"]["values"]
    assert within(web["service_ms"], truth.web_ms) and web["service_ms"]["how"] == "fitted"
    assert within(web["miss_ms"], truth.miss_ms)
    assert within(db["read_ms"], truth.read_ms) and within(
        db["write_ms"], truth.write_share and truth.write_ms
    )
    assert (
        within(web["service_cv"], truth.service_cv)
        and web["service_cv"]["ci95"][1] - web["service_cv"]["ci95"][0] < 0.5
    )
    lat = result.to_json()["latency_fit"]
    assert within(lat["network_ci95"], truth.network_ms) and lat["statistics"] == ["p99", "p50", "mean"]
    text = result.yaml_text()
    assert "service_cv: " in text and "# fitted: latency p99, p50, mean" in text
    assert "network_ms: " in text and "fixed delay outside the stations" in text


def test_hit_ratio_what_if_moves_the_caller_and_the_database(base):
    _, truth, _, result = base
    doc = result.document

    def util(hit: float) -> dict[str, float]:
        d = json.loads(json.dumps(doc))
        d["nodes"]["cache"]["hit_ratio"] = hit
        res = evaluate(scenario_from_data(d, "what-if"), "analytic", rate_rps=70.0)
        return {n: res.nodes[n].utilization for n in ("web", "db")}

    high, low = util(0.75), util(0.5)
    # truth: CPU per request from requests, 3.0 + 0.8 m (web), 2.5 m + 0.02 (db), m the miss ratio
    web_truth = (truth.web_ms + 0.5 * truth.miss_ms) / (truth.web_ms + 0.25 * truth.miss_ms)
    db_truth = (0.5 * truth.read_ms + truth.write_share * truth.write_ms) / (
        0.25 * truth.read_ms + truth.write_share * truth.write_ms
    )
    bg_web = doc["nodes"]["web"]["background_cpu_pct"] / 100
    bg_db = doc["nodes"]["db"]["background_cpu_pct"] / 100
    assert (low["web"] - bg_web) / (high["web"] - bg_web) == pytest.approx(web_truth, rel=0.05)
    assert (low["db"] - bg_db) / (high["db"] - bg_db) == pytest.approx(db_truth, rel=0.1)


def test_worker_usl_is_fitted_and_a_worker_what_if_gets_worse(tmp_path):
    truth = Truth(
        phases=[
            (40.0, 0.75, 150),
            (70.0, 0.75, 150),
            (100.0, 0.75, 150),
            (70.0, 0.75, 150),
            (70.0, 0.75, 150),
        ],
        workers=[2, 2, 2, 4, 8],
    )
    path, truth, _ = write(tmp_path, truth)
    result = fit_scenario(str(path))
    web = result.document["nodes"]["web"]
    assert web["concurrency"] == 2 and web["worker_usl"]["workers"] == 2
    wf = result.to_json()["workers"]["web"]
    assert wf["sigma_ci95"][0] <= truth.sigma <= wf["sigma_ci95"][1]
    for n in (4, 8):  # the cost at each count, from the fitted coefficients, against the truth's
        d = json.loads(json.dumps(result.document))
        d["nodes"]["web"]["concurrency"] = n
        scenario = scenario_from_data(d, "what-if")
        base_util = (
            evaluate(scenario_from_data(result.document, "b"), "analytic", rate_rps=60.0)
            .nodes["web"]
            .utilization
        )
        util = evaluate(scenario, "analytic", rate_rps=60.0).nodes["web"].utilization
        bg = web["background_cpu_pct"] / 100
        assert (util - bg) / (base_util - bg) == pytest.approx(truth.worker_factor(n), rel=0.04)
        assert util > base_util


def test_host_cpu_is_split_among_the_nodes_on_it(tmp_path):
    path, truth, _ = write(tmp_path, host=True)
    result = fit_scenario(str(path))
    doc = result.document
    assert doc["hosts"] == {"box": {"cpus": 1}} and doc["nodes"]["db"]["host"] == "box"
    hf = result.to_json()["hosts"]["box"]
    visits_db = result.params.nodes["db"].visits
    total = hf["per_visit_ms"]["web"] + hf["per_visit_ms"]["cache"] + visits_db * hf["per_visit_ms"]["db"]
    hit = result.document["nodes"]["cache"]["hit_ratio"]
    true_total = (
        truth.web_ms
        + truth.hit_ms
        + (1 - hit) * (truth.miss_ms + truth.read_ms)
        + truth.write_share * truth.write_ms
    )
    assert total == pytest.approx(true_total, rel=0.05)
    assert hf["split_assumed_equal"] == [["web", "cache"]]
    assert any("cannot be split" in n for n in result.not_fitted)


def test_phases_are_detected_in_a_step_series():
    index = pd.date_range("2026-01-01", periods=600, freq="1s", tz="UTC")
    levels = np.repeat([0.0, 20.0, 50.0, 80.0], 150)
    noisy = pd.Series(np.random.default_rng(1).poisson(levels).astype(float), index=index)
    phases = detect_phases(noisy, 1)
    assert [round(p.mean_rps, -1) for p in phases] == [20.0, 50.0, 80.0]
    assert all(abs((p.start - index[150 * (i + 1)]).total_seconds()) <= 20 for i, p in enumerate(phases))


def test_units_are_inferred_or_asked_once(tmp_path):
    path, _, _ = write(tmp_path)
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    text = path.read_text()
    metrics.assign(web_cpu=metrics["web_cpu"] / 100).to_csv(tmp_path / "metrics.csv", index=False)
    with pytest.raises(
        FitError, match=r"nodes.web.cpu: no unit, and every value is at most 1.*Percent.*fraction.*cores"
    ):
        fit_scenario_text(path, text.replace("column: web_cpu, unit: Percent", "column: web_cpu"))
    with pytest.raises(FitError, match=r"unknown CPU unit 'percentage'.*Percent"):
        fit_scenario_text(
            path, text.replace("column: web_cpu, unit: Percent", "column: web_cpu, unit: percentage")
        )
    result = fit_scenario_text(
        path, text.replace("column: web_cpu, unit: Percent", "column: web_cpu, unit: cores")
    )
    assert result.document["nodes"]["web"]["service_ms"] == pytest.approx(3.0, rel=0.05)
    metrics.to_csv(tmp_path / "metrics.csv", index=False)
    result = fit_scenario_text(
        path, text.replace("column: web_cpu, unit: Percent", "column: web_cpu")
    )  # values above 1: percent
    assert result.document["nodes"]["web"]["service_ms"] == pytest.approx(3.0, rel=0.05)
    metrics.assign(p99_ms=metrics["p99_ms"] / 5).to_csv(tmp_path / "metrics.csv", index=False)
    with pytest.raises(
        FitError, match=r"latency: no unit, and values around .* seconds or milliseconds.*ms, s or us"
    ):
        fit_scenario_text(path, text.replace("column: p99_ms, unit: ms", "column: p99_ms"))


def fit_scenario_text(path: Path, text: str):
    path.write_text(text)
    return fit_scenario(str(path))


def test_a_short_history_says_why_there_is_no_backtest(tmp_path):
    path, _, _ = write(tmp_path)
    result = fit_scenario_text(
        path, path.read_text().replace("period_s: 1\n", "period_s: 1\nmode: history\n")
    )
    assert result.load.mode == "history" and result.backtest.validation is None
    assert result.backtest.skipped.startswith("skipped: the window is 11 minutes")
    assert "-" not in result.backtest.skipped.split("window is")[1].split(";")[0]


def test_locust_history_feeds_the_fit(tmp_path):
    """Traffic and latency from Locust's stats history, CPU from a sampler's CSV: CPU-ms per request recovered."""
    locust = ROOT / "tests" / "connectors" / "loadtest" / "locust_stats_history.csv"
    rows = pd.read_csv(locust)
    agg = rows[rows["Name"] == "Aggregated"]
    noise = np.random.default_rng(2).normal(0, 0.5, len(agg))
    pd.DataFrame({"timestamp": agg["Timestamp"], "cpu": 2 + 100 * agg["Requests/s"] * 0.004 + noise}).to_csv(
        tmp_path / "cpu.csv", index=False
    )
    (tmp_path / "fit.yaml").write_text(f"""version: 1
source: csv
period_s: 1
traffic:
  metric: {{file: {locust}, format: locust, column: Requests/s}}
latency:
  metric: {{file: {locust}, format: locust, column: 99%}}
  stats:
    p50: {{file: {locust}, format: locust, column: 50%}}
entry: web
nodes:
  web: {{kind: service, cpus: 1, cpu: {{file: cpu.csv, column: cpu}}}}
""")
    result = fit_scenario(str(tmp_path / "fit.yaml"))
    est = result.to_json()["nodes"]["web"]["values"]["service_ms"]
    assert within(est, 4.0) and est["value"] == pytest.approx(4.0, rel=0.05)
    assert result.load.mode == "load_test" and not any("kind: count" in w for w in result.warnings)
    assert result.params.latency.stats == ["p99", "p50"]


def test_workers_metric_and_a_given_miss_cost(tmp_path):
    truth = Truth(
        phases=[(40.0, 0.75, 120), (80.0, 0.75, 120), (60.0, 0.75, 120), (60.0, 0.75, 120)],
        workers=[2, 2, 4, 8],
    )
    path, truth, spans = write(tmp_path, truth)
    metrics = pd.read_csv(tmp_path / "metrics.csv")
    stamps = pd.to_datetime(metrics["timestamp"], utc=True)
    workers = np.full(len(metrics), np.nan)
    for (start, end), n in zip(spans, truth.workers):
        workers[((stamps >= start) & (stamps < end)).to_numpy()] = n
    metrics.assign(workers=workers).to_csv(tmp_path / "metrics.csv", index=False)
    text = path.read_text()
    text = (
        text[: text.index("phases:")] + text[text.index("traffic:") :]
    )  # detected phases, workers from the metric
    text = text.replace(
        "    cpus: 1\n    cpu: {file: metrics.csv, column: web_cpu, unit: Percent}\n",
        "    cpus: 1\n    miss_ms: 0.8\n    cpu: {file: metrics.csv, column: web_cpu, unit: Percent}\n"
        "    workers: {file: metrics.csv, column: workers}\n",
    )
    result = fit_scenario_text(path, text)
    web = result.document["nodes"]["web"]
    assert web["miss_ms"] == 0.8 and web["worker_usl"]["workers"] == 2
    assert web["service_ms"] == pytest.approx(
        truth.web_ms, rel=0.05
    )  # the given per-miss cost taken off the mean
    wf = result.to_json()["workers"]["web"]
    assert sorted(wf["cpu_ms_per_visit_by_workers"]) == ["2", "4", "8"]
    assert wf["sigma_ci95"][0] <= truth.sigma <= wf["sigma_ci95"][1]


def test_the_app_reads_a_load_test_report(base):
    from streamlit_ui.fitting import load_lines

    lines = load_lines(base[3].to_json())
    assert lines["peak_note"] == "the highest of 4 steady phases" and lines["growth"] == "not fitted"
