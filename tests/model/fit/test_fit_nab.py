"""Real CloudWatch series (Numenta Anomaly Benchmark; see data/samples/nab/PROVENANCE.md).

They hold gaps, spikes, level shifts and stamps off the 5-minute grid, and they come from
unrelated systems, so no good fit is possible: the fit must never crash, must say what it
could not fit and why, and a series pair that never overlaps must be refused in one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import cli
from connectors.errors import ConnectorError
from model.fit.pipeline import FitError, fit_scenario

NAB = Path(__file__).resolve().parents[3] / "data" / "samples" / "nab"
ELB = "elb_request_count_8c0756.csv"


def shifted(tmp_path: Path, name: str, to_start: str) -> str:
    """A copy of a NAB series moved (whole days, so the daily cycle keeps its hours) to start near `to_start`."""
    raw = pd.read_csv(NAB / name)
    stamps = pd.to_datetime(raw["timestamp"])
    days = (pd.Timestamp(to_start).normalize() - stamps.iloc[0].normalize()).days
    raw["timestamp"] = (stamps + pd.Timedelta(days=days)).dt.strftime("%Y-%m-%d %H:%M:%S")
    out = tmp_path / f"shifted_{name}"
    raw.to_csv(out, index=False)
    return str(out)


def with_hole(tmp_path: Path, name: str, day: str) -> str:
    raw = pd.read_csv(NAB / name)
    keep = ~raw["timestamp"].str.startswith(day)
    out = tmp_path / f"hole_{name}"
    raw[keep].to_csv(out, index=False)
    return str(out)


def fit_file(tmp_path: Path, traffic: str, nodes: dict[str, str], stem: str = "fit") -> Path:
    lines = [
        "version: 1",
        "source: csv",
        "lookback_days: 14",
        "period_s: 300",
        "traffic:",
        f"  metric: {{file: '{traffic}', column: value, unit: Count}}",
        "  kind: count",
        f"entry: {next(iter(nodes))}",
        "nodes:",
    ]
    names = list(nodes)
    for i, (name, cpu) in enumerate(nodes.items()):
        kind = "service" if i == 0 else "database"
        lines += [
            f"  {name}:",
            f"    kind: {kind}",
            f"    cpu: {{file: '{cpu}', column: value, unit: Percent}}",
        ]
        if i == 0 and len(names) > 1:
            lines.append(f"    calls: [{{to: {names[1]}, visits: 1.0, op: read}}]")
    path = tmp_path / f"{stem}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def cases(tmp_path: Path) -> dict[str, Path]:
    feb_on_elb = "2014-04-10"
    return {
        "elb + ec2 cpu (level shift)": fit_file(
            tmp_path, str(NAB / ELB), {"web": str(NAB / "ec2_cpu_utilization_77c1ca.csv")}, "a"
        ),
        "network bytes as traffic": fit_file(
            tmp_path,
            str(NAB / "ec2_network_in_257a54.csv"),
            {"web": str(NAB / "ec2_cpu_utilization_77c1ca.csv")},
            "b",
        ),
        "elb with a missing day": fit_file(
            tmp_path,
            with_hole(tmp_path, ELB, "2014-04-12"),
            {"web": str(NAB / "ec2_cpu_utilization_77c1ca.csv")},
            "c",
        ),
        "two nodes, stamps off the grid": fit_file(
            tmp_path,
            str(NAB / ELB),
            {
                "web": shifted(tmp_path, "ec2_cpu_utilization_5f5533.csv", feb_on_elb),
                "db": shifted(tmp_path, "rds_cpu_utilization_cc0c53.csv", feb_on_elb),
            },
            "d",
        ),
    }


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HEADROOM_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.parametrize(
    "case",
    [
        "elb + ec2 cpu (level shift)",
        "network bytes as traffic",
        "elb with a missing day",
        "two nodes, stamps off the grid",
    ],
)
def test_real_series_never_crash_and_say_what_they_could_not_fit(tmp_path, case):
    config = cases(tmp_path)[case]
    result = fit_scenario(config)
    report = json.loads(json.dumps(result.to_json()))
    text = result.to_text()
    assert "Validation" in text and "Backtest" in text
    rows = report["validation"]["rows"]
    assert rows, "every node with a CPU series gets a validation row"
    # Unrelated systems: each node is either not fitted (said so) or shown as a poor/fair fit with a cause.
    for name in result.params.nodes:
        row = next(r for r in rows if r["what"] == f"{name} utilization")
        unfit = any(n.startswith(f"nodes.{name}.") for n in report["not_fitted"])
        assert unfit or (row["verdict"] in ("fair", "poor") and row["cause"]), (
            name,
            row,
            report["not_fitted"],
        )
    # and a scenario came out all the same, every value labelled
    assert result.scenario.workload.rate_rps > 0
    for nf in report["nodes"].values():
        assert all(v["how"] in ("fitted", "given", "assumed") for v in nf["values"].values())


def test_off_grid_stamps_and_the_level_shift_are_reported(tmp_path):
    result = fit_scenario(cases(tmp_path)["two nodes, stamps off the grid"])
    assert any(
        "nodes.web.cpu" in w and "not on the 300 s grid (typically 120 s past it)" in w
        for w in result.warnings
    )
    level = fit_scenario(cases(tmp_path)["elb + ec2 cpu (level shift)"])
    assert any("not on the utilization line 2014-04-" in w for w in level.warnings)
    # the CPU series ends (04-16) before the held-out week starts (04-17): the backtest says so
    assert level.backtest.validation is not None and not level.backtest.validation.rows
    assert any("web: no observed CPU in this range" in n for n in level.backtest.validation.notes)


def test_series_that_never_overlap_are_refused_in_one_line(tmp_path, capsys):
    config = fit_file(
        tmp_path, str(NAB / ELB), {"web": str(NAB / "cpu_utilization_asg_misconfiguration.csv")}
    )
    # The CSV window ends at the newest stamp (July, the CPU file); the ELB series (April) has
    # nothing in it, which the connector refuses before the fit sees a frame.
    with pytest.raises(
        ConnectorError, match="no data for traffic between 2014-07-01 17:20 and 2014-07-15 17:20 UTC"
    ):
        fit_scenario(config)
    assert cli.main(["fit", "--config", str(config), "--out", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: csv: no data for traffic") and err.count("\n") == 1
    assert not (tmp_path / "x.yaml").exists()


def test_series_that_overlap_too_little_are_refused_in_one_line(tmp_path, capsys):
    """The same CPU file moved so that only its last half hour meets the traffic: misaligned windows."""
    cpu = shifted(
        tmp_path, "ec2_cpu_utilization_77c1ca.csv", "2014-03-27"
    )  # now 2014-03-27 14:25 to 04-10 14:20
    raw = pd.read_csv(cpu)
    raw[raw["timestamp"] <= "2014-04-10 01:10:00"].to_csv(cpu, index=False)  # the window opens at 04-10 00:40
    config = fit_file(tmp_path, str(NAB / ELB), {"web": cpu})
    with pytest.raises(
        FitError, match=r"nodes.web.cpu and traffic share \d+ period\(s\) of 300 s .* misaligned"
    ):
        fit_scenario(config)
    assert cli.main(["fit", "--config", str(config), "--out", str(tmp_path / "x.yaml")]) == 2


def test_the_shipped_nab_fit_file_runs_from_the_cli(tmp_path, capsys):
    shipped = Path(__file__).resolve().parents[3] / "scenarios" / "fit-csv-nab.yaml"
    out = tmp_path / "nab.yaml"
    assert cli.main(["fit", "--config", str(shipped), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Not fitted" in printed or "poor" in printed
    assert out.exists()
