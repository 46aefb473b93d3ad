"""Input a fit cannot use is refused with one clear line, and the CLI exits 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cli
from model.fit.pipeline import FitError, fit_scenario

START = pd.Timestamp("2024-03-04 00:00:00")


def write_case(tmp_path: Path, traffic, cpu, cpu_stamps=None, calls: str = "") -> Path:
    n = len(traffic)
    stamps = pd.date_range(START, periods=n, freq="300s")
    pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"), "value": traffic}).to_csv(
        tmp_path / "traffic.csv", index=False
    )
    cpu_index = cpu_stamps if cpu_stamps is not None else stamps
    pd.DataFrame({"timestamp": cpu_index.strftime("%Y-%m-%d %H:%M:%S"), "value": cpu}).to_csv(
        tmp_path / "cpu.csv", index=False
    )
    config = tmp_path / "fit.yaml"
    config.write_text(f"""
version: 1
source: csv
lookback_days: 14
period_s: 300
traffic:
  metric: {{file: traffic.csv, column: value, unit: Count}}
  kind: count
entry: web
nodes:
  web:
    kind: service
    replicas: 2
    cpus: 1
    cpu: {{file: cpu.csv, column: value, unit: Percent}}
    {calls}
""")
    return config


def healthy(n: int = 576, seed: int = 3):
    rng = np.random.default_rng(seed)
    hours = np.arange(n) * 300 / 3600
    rate = 50 + 30 * np.sin(2 * np.pi * hours / 24)
    count = rng.poisson(rate * 300)
    cpu = 100 * (0.05 + (count / 300) * 0.02 / 2) + rng.normal(0, 0.3, n)  # 20 ms on 2 cores
    return count.astype(float), np.round(cpu, 3)


def run_cli(config: Path, tmp_path: Path, capsys) -> tuple[int, str]:
    code = cli.main(["fit", "--config", str(config), "--out", str(tmp_path / "out.yaml")])
    return code, capsys.readouterr().err


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADROOM_CACHE_DIR", str(tmp_path / "cache"))


def test_the_healthy_case_fits(tmp_path, capsys):
    traffic, cpu = healthy()
    code, err = run_cli(write_case(tmp_path, traffic, cpu), tmp_path, capsys)
    assert code == 0, err
    assert (
        "service_ms: 20" in (tmp_path / "out.yaml").read_text()
        or "service_ms: 19" in (tmp_path / "out.yaml").read_text()
    )


def test_traffic_of_zeros(tmp_path, capsys):
    traffic, cpu = healthy()
    code, err = run_cli(write_case(tmp_path, np.zeros_like(traffic), cpu), tmp_path, capsys)
    assert code == 2
    assert "traffic is zero in all 576 periods" in err and err.count("\n") == 1


def test_cpu_above_100_percent(tmp_path, capsys):
    traffic, cpu = healthy()
    cpu[100:110] = 180.0  # a sum over two cores, not a per-instance average
    code, err = run_cli(write_case(tmp_path, traffic, cpu), tmp_path, capsys)
    assert code == 2
    assert "nodes.web.cpu: CPU of 180 % at 2024-03-04 08:20 UTC is above 100 % (10 period(s))" in err


def test_timestamps_that_never_line_up(tmp_path, capsys):
    traffic, cpu = healthy()
    other_week = pd.date_range(START + pd.Timedelta(days=7), periods=len(cpu), freq="300s")
    code, err = run_cli(write_case(tmp_path, traffic, cpu, cpu_stamps=other_week), tmp_path, capsys)
    assert code == 2
    assert "nodes.web.cpu and traffic share 0 period(s) of 300 s" in err and "misaligned" in err


def test_timestamps_off_the_grid_are_bucketed_with_a_warning(tmp_path):
    traffic, cpu = healthy()
    shifted = pd.date_range(START + pd.Timedelta(seconds=150), periods=len(cpu), freq="300s")
    result = fit_scenario(write_case(tmp_path, traffic, cpu, cpu_stamps=shifted))
    assert any("not on the 300 s grid (typically 150 s past it)" in w for w in result.warnings)
    assert result.scenario.nodes["web"].service_ms == pytest.approx(20, rel=0.05)


def test_one_data_point(tmp_path, capsys):
    code, err = run_cli(write_case(tmp_path, [120.0], [30.0]), tmp_path, capsys)
    assert code == 2
    assert "traffic has 1 point(s); the fit needs at least 12 periods" in err


def test_a_call_to_a_node_not_in_the_graph(tmp_path, capsys):
    traffic, cpu = healthy()
    config = write_case(tmp_path, traffic, cpu, calls="calls: [{to: payments, visits: 1}]")
    code, err = run_cli(config, tmp_path, capsys)
    assert code == 2
    assert "nodes.web.calls.0.to" in err and "'payments'" in err and "fit.yaml" in err


def test_errors_are_value_errors_with_one_line(tmp_path):
    traffic, cpu = healthy()
    with pytest.raises(FitError) as info:
        fit_scenario(write_case(tmp_path, np.zeros_like(traffic), cpu))
    assert isinstance(info.value, ValueError) and "\n" not in str(info.value)


def test_replicas_metric_on_a_node_that_is_not_a_service(tmp_path, capsys):
    traffic, cpu = healthy()
    config = write_case(tmp_path, traffic, cpu, calls="calls: [{to: cache, visits: 1}]")
    config.write_text(
        config.read_text() + "  cache:\n    kind: cache\n    replicas: {file: cpu.csv, column: value}\n"
    )
    code, err = run_cli(config, tmp_path, capsys)
    assert code == 2
    assert (
        "fit.yaml: nodes.cache.replicas (line 19): is not a metric of a cache node" in err
        and err.count("\n") == 1
    )


def test_negative_replica_counts(tmp_path, capsys):
    traffic, cpu = healthy()
    config = write_case(tmp_path, traffic, cpu)
    pd.DataFrame(
        {
            "timestamp": pd.date_range(START, periods=len(cpu), freq="300s").strftime("%Y-%m-%d %H:%M:%S"),
            "value": np.where(np.arange(len(cpu)) == 7, -1.0, 2.0),
        }
    ).to_csv(tmp_path / "replicas.csv", index=False)
    config.write_text(
        config.read_text().replace("    replicas: 2\n", "    replicas: {file: replicas.csv, column: value}\n")
    )
    code, err = run_cli(config, tmp_path, capsys)
    assert code == 2
    assert "nodes.web.replicas: a negative replica count (-1 at 2024-03-04 00:35 UTC)" in err
