"""The USL from a service's running-replica series, through the whole fit (`fit_scenario(..., frame=...)`).

The series are generated here with known sigma and kappa: a service sized, period by period, to
the fewest replicas that keep its CPU under 60 %, whose capacity at N replicas is
lambda N / (1 + sigma (N - 1) + kappa N (N - 1)), with noisy CPU and Poisson request counts, and
the period in which the count changes reported as the fractional mean a monitor shows. The
fit must recover sigma within 0.005 (absolute), kappa within 15 % and the peak N* within 10 %.
Measured on the four cases below: sigma off by 0.0004 to 0.0012, kappa by 0.7 to 5.4 %, N* by
0.3 to 2.7 %, lambda (100 req/s) by 0.4 to 1.1 %.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from connectors.base import tidy
from model.fit.pipeline import fit_scenario
from model.fit.file import fit_file_from_text
from model.fit.scaling import MIN_LEVELS, STOPS_PAYING, marginal_gain
from model.scenario.reader import scenario_from_text

FIT = """version: 1
source: csv
traffic: {metric: {file: x.csv, column: traffic}, kind: count}
entry: api
nodes:
  api:
    kind: service
    cpus: 1
    cpu: {file: x.csv, column: cpu, unit: Percent}
    replicas: {file: x.csv, column: replicas}
"""


def series(
    sigma: float,
    kappa: float,
    seed: int,
    *,
    peak: float = 300.0,
    counts: tuple[int, int] = (1, 16),
    background: float = 0.06,
    demand_ms: float = 10.0,
    days: int = 7,
    fixed: int | None = None,
    force: tuple[int, int, int] | None = None,
):
    """A tidy frame (traffic, nodes.api.cpu, nodes.api.replicas) and the whole replica counts behind it."""
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2024-05-06", periods=days * 288, freq="300s", tz="UTC")
    hours = stamps.hour.to_numpy() + stamps.minute.to_numpy() / 60
    rate = peak * (0.15 + 0.85 * np.exp(-0.5 * ((hours - 14) / 4) ** 2)) * rng.lognormal(0, 0.05, len(hours))
    lam = 1000.0 / demand_ms  # one core

    def capacity(n):
        return lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))

    if fixed is not None:
        n = np.full(len(rate), float(fixed))
    else:
        sizes = np.arange(counts[0], counts[1] + 1)
        n = np.array(
            [next((k for k in sizes if background + r / capacity(k) <= 0.6), counts[1]) for r in rate],
            dtype=float,
        )
    if force is not None:  # periods [start, stop) run `count` replicas whatever the load
        start, stop, count = force
        n[start:stop] = count
    cpu = np.clip(
        100 * np.minimum(background + rate / capacity(n), 0.995) + rng.normal(0, 0.5, len(rate)), 0, 100
    )
    reported = n.copy()
    changed = np.flatnonzero(np.diff(n) != 0) + 1
    reported[changed] = (
        n[changed] + n[changed - 1]
    ) / 2  # a period in which it scaled: the mean count is fractional
    frame = pd.concat(
        [
            tidy(stamps, "traffic", rng.poisson(rate * 300).astype(float), "Count"),
            tidy(stamps, "nodes.api.cpu", np.round(cpu, 3), "Percent"),
            tidy(stamps, "nodes.api.replicas", reported, "None"),
        ],
        ignore_index=True,
    )
    return frame, n


def fit(frame, text: str = FIT):
    return fit_scenario(fit_file_from_text(text, "fit.yaml"), frame=frame)


@pytest.mark.parametrize(
    "sigma, kappa, seed", [(0.05, 0.002, 1), (0.05, 0.002, 2), (0.03, 0.004, 3), (0.02, 0.0008, 4)]
)
def test_recovers_known_sigma_and_kappa(sigma, kappa, seed):
    frame, n = series(sigma, kappa, seed)
    result = fit(frame)
    scaling = result.params.nodes["api"].scaling
    assert scaling.usl is not None, scaling.notes
    usl = scaling.usl
    assert abs(usl.sigma - sigma) <= 0.005
    assert usl.kappa == pytest.approx(kappa, rel=0.15)
    assert usl.peak_n == pytest.approx(math.sqrt((1 - sigma) / kappa), rel=0.10)
    assert usl.lambda_ == pytest.approx(100.0, rel=0.03)  # 1000 ms / 10 ms on one core
    assert result.params.nodes["api"].background == pytest.approx(0.06, abs=0.01)
    assert len(scaling.levels) >= MIN_LEVELS and any("mid-scaling" in note for note in scaling.notes)
    # the scenario holds the count at the planning load and the demand there, not the average over counts
    replicas = result.scenario.nodes["api"].replicas
    assert n.min() < replicas <= n.max() and result.params.nodes["api"].values["replicas"].how == "fitted"
    expected_ms = 10.0 * (1 + sigma * (replicas - 1) + kappa * replicas * (replicas - 1))
    assert result.scenario.nodes["api"].service_ms == pytest.approx(expected_ms, rel=0.05)


def test_reported_in_json_text_and_as_a_yaml_comment_without_changing_the_scenario():
    frame, _ = series(0.05, 0.002, 1)
    result = fit(frame)
    report = result.to_json()["nodes"]["api"]["scaling"]
    assert report["fitted"] and report["sigma_ci95"][0] < report["sigma"] < report["sigma_ci95"][1]
    assert (
        report["kappa_ci95"][0] < report["kappa"] < report["kappa_ci95"][1] and report["peak_replicas"] > 15
    )
    assert {"replicas", "periods", "capacity_rps"} <= set(report["levels"][0])
    assert "USL: sigma" in result.to_text() and "peak at N*" in result.to_text()
    text = result.yaml_text()
    node_line = next(line for line in text.splitlines() if line.startswith("  api:"))
    assert "# scaling (USL" in node_line and "sigma" in node_line and "kappa" in node_line
    again = scenario_from_text(text, "fitted.yaml")  # the comment is only a comment
    assert again.nodes == result.scenario.nodes and "scaling" not in again.nodes["api"].model_dump()


def test_warns_when_the_hpa_max_is_past_the_peak():
    frame, _ = series(0.05, 0.02, 5, peak=180.0, counts=(1, 12))  # N* = sqrt(0.95 / 0.02) = 6.9
    text = FIT.replace("    cpus: 1\n", "    cpus: 1\n    autoscale: {target_cpu_pct: 60, min: 1, max: 12}\n")
    result = fit(frame, text)
    scaling = result.params.nodes["api"].scaling
    assert scaling.usl is not None and scaling.usl.peak_n == pytest.approx(6.9, rel=0.15)
    assert scaling.reference == 12 and scaling.reference_what == "the HPA max"
    assert scaling.warning and "past the USL peak" in scaling.warning
    assert scaling.warning in result.warnings
    assert "lowers throughput" in next(
        line for line in result.yaml_text().splitlines() if line.startswith("  api:")
    )


def test_no_warning_while_replicas_still_pay():
    frame, _ = series(0.01, 0.0, 6, peak=250.0, counts=(1, 6))
    scaling = fit(frame).params.nodes["api"].scaling
    assert scaling.usl is not None and scaling.marginal > STOPS_PAYING and scaling.warning is None
    assert float(marginal_gain(scaling.usl, scaling.reference)) == pytest.approx(scaling.marginal)


def test_too_few_replica_counts_is_a_note_not_a_crash():
    frame, n = series(0.05, 0.002, 7, peak=160.0, counts=(2, 16))
    assert len(np.unique(n)) == 3  # 2, 3 and 4 replicas
    result = fit(frame)
    scaling = result.params.nodes["api"].scaling
    assert scaling.usl is None and scaling.warning is None
    note = next(note for note in scaling.notes if note.startswith("not fitted"))
    assert "3 usable replica count(s) (2, 3, 4)" in note and f"at least {MIN_LEVELS}" in note
    assert result.to_json()["nodes"]["api"]["scaling"]["fitted"] is False
    assert "not fitted" in result.to_text() and "not fitted" in result.yaml_text()
    assert result.scenario.nodes["api"].service_ms > 0  # the rest of the fit goes on


def test_a_constant_count_fits_like_the_given_number():
    frame, _ = series(0.05, 0.002, 8, fixed=4)
    by_metric = fit(frame)
    given = fit(
        frame[frame["series"] != "nodes.api.replicas"],
        FIT.replace("replicas: {file: x.csv, column: replicas}", "replicas: 4"),
    )
    assert by_metric.scenario.nodes["api"].replicas == 4
    assert by_metric.scenario.nodes["api"].service_ms == given.scenario.nodes["api"].service_ms
    assert by_metric.params.nodes["api"].background == given.params.nodes["api"].background
    assert "did not change (always 4)" in by_metric.params.nodes["api"].scaling.notes[-1]
    assert given.params.nodes["api"].scaling is None and "scaling" not in given.to_json()["nodes"]["api"]


def test_counts_with_little_cpu_or_few_periods_are_left_out_and_said_so():
    # 30 replicas for 5 periods at midday (the first one mid-scaling); 20 for a night (00:00-03:00,
    # 36 periods), where requests use about 6 % of its CPU (5.9 % measured)
    frame, n = series(0.05, 0.002, 9, force=(288 + 150, 288 + 155, 30))
    night, _ = series(0.05, 0.002, 9, force=(576, 576 + 36, 20))
    for data, count, words in (
        (frame, 30, "30 (4 period(s); a count needs 12)"),
        (night, 20, "20 (CPU from requests 5."),
    ):
        scaling = fit(data).params.nodes["api"].scaling
        assert any(words in note for note in scaling.notes if note.startswith("replica counts left out")), (
            scaling.notes
        )
        assert count not in [lv.replicas for lv in scaling.levels] and scaling.usl is not None
        assert abs(scaling.usl.sigma - 0.05) <= 0.005 and scaling.usl.kappa == pytest.approx(0.002, rel=0.15)


def test_without_cpu_the_count_is_fitted_and_the_usl_is_not():
    frame, _ = series(0.05, 0.002, 10)
    text = FIT.replace("    cpu: {file: x.csv, column: cpu, unit: Percent}\n", "")
    result = fit(frame[frame["series"] != "nodes.api.cpu"], text)
    scaling = result.params.nodes["api"].scaling
    assert scaling.usl is None and "no cpu metric" in scaling.notes[0]
    assert result.params.nodes["api"].values["replicas"].how == "fitted"
