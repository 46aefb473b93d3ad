"""The testbed's pure parts, without servers: the load schedule, the knee, the fit's inputs, the report's arithmetic."""

from __future__ import annotations

import csv
import dataclasses
import math
from pathlib import Path

import pytest

from benchmarks.testbed.cpu import CpuSampler
from benchmarks.testbed.loadgen import MAX_REQUESTS, PhaseRun, Record, schedule
from benchmarks.testbed.measure import measure, period_rows
from benchmarks.testbed.phases import RampStep, knee
from benchmarks.testbed.predict import hosts_fit_file, write_fit_inputs
from benchmarks.testbed.report import err_pct, predicted_stats
from model.fit.file import load_fit_file


def test_schedule_is_poisson_at_the_rate_and_bounded():
    times = schedule(50.0, 200.0, seed=3)
    assert times == schedule(50.0, 200.0, seed=3)  # repeatable
    assert abs(len(times) - 10_000) < 4 * math.sqrt(10_000)  # count ~ Poisson(rate * duration)
    gaps = [b - a for a, b in zip(times, times[1:])]
    mean = sum(gaps) / len(gaps)
    cv = math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps)) / mean
    assert abs(mean - 0.02) < 0.001 and abs(cv - 1.0) < 0.05  # exponential gaps
    assert all(0 <= t < 200.0 for t in times)
    assert len(schedule(1e6, 10.0, seed=1)) == MAX_REQUESTS


def test_knee_ignores_one_noisy_step_and_takes_the_most_served():
    steps = [
        RampStep(40, 41, 10, 50, 0),
        RampStep(60, 55, 12, 60, 0),  # a noisy miss, then it keeps up
        RampStep(80, 79, 15, 80, 0),
        RampStep(100, 92, 900, 2000, 0),
        RampStep(120, 95, 3000, 5000, 0),
    ]
    found = knee(steps)
    assert found.knee_rps == 100 and found.capacity_rps == 95
    assert knee(steps[:3]).knee_rps == 80  # never missed for good: the last step


def _fake_sampler(tmp_path: Path, start: float, seconds: int) -> CpuSampler:
    sampler = CpuSampler({"web": list, "cache": list, "db": list}, tmp_path / "cpu.csv", 1.0)
    sampler.rows = [
        (start + i, {"web": 10.0 + i % 2, "cache": 1.0, "db": 5.0}) for i in range(1, seconds + 1)
    ]
    return sampler


def _run(start: float) -> PhaseRun:
    records = [
        Record(t, t, t + 0.010, True, "hit" if i % 4 else "miss", i % 10 == 0)
        for i, t in enumerate(schedule(20.0, 30.0, 5))
    ]
    records.append(Record(29.0, 29.0, 39.0, False, error="timeout"))
    return PhaseRun(20.0, 30.0, start, records, 0.5)


def test_measure_and_period_rows(tmp_path):
    start = 1_700_000_000.0
    sampler = _fake_sampler(tmp_path, start, 31)
    run = _run(start)
    m = measure("fit-20%", "fit", run, sampler, 5.0, {"workers": 2, "hit_ratio": 0.75})
    assert m.latency_ms["p50"] == pytest.approx(10.0, abs=0.01)
    assert 0 < m.error_pct < 1 and abs(m.hit_ratio - 0.75) < 0.05
    assert m.cpu_pct["db"] == 5.0 and 10.0 <= m.cpu_pct["web"] <= 11.0
    rows = period_rows(run, sampler, 5.0, 5)
    assert len(rows) == 5  # 25 s measured in 5 s periods
    assert sum(r["traffic_rps"] for r in rows) * 5 == sum(1 for r in run.records if r.sched_s >= 5.0)
    assert all(r["cache_hits_rps"] + r["cache_misses_rps"] <= r["traffic_rps"] + 1e-9 for r in rows)


@pytest.mark.parametrize("restamp", [False, True])
def test_fit_inputs_are_a_valid_csv_fit(tmp_path, restamp):
    start = 1_700_000_003.0
    rows = period_rows(_run(start), _fake_sampler(tmp_path, start, 31), 5.0, 5)
    config = write_fit_inputs(tmp_path, rows, 5, workers=2, service_cores=1, restamp=restamp)
    with open(tmp_path / ("fit-metrics-60s.csv" if restamp else "fit-metrics.csv")) as f:
        stamps = [r["timestamp"] for r in csv.DictReader(f)]
    assert len(stamps) == len(rows) == len(set(stamps))
    if restamp:  # 60 s apart on the minute grid: what a fit refusing short periods reads
        fit = load_fit_file(config)
        assert fit.period_s == 60 and fit.traffic.kind == "rate"
        assert all(s.endswith(":00+00:00") for s in stamps)
        assert fit.nodes["web"].concurrency == 2 and fit.nodes["cache"].miss == "db"


def test_the_hosts_variant_is_fitted_from_a_fit_file_that_declares_the_shared_cores(tmp_path):
    # The latency fit (service_cv, network_ms) is made against the scenario the fit file describes:
    # the hosts variant gets a fit file of its own, the same periods with the placement declared.
    start = 1_700_000_003.0
    rows = period_rows(_run(start), _fake_sampler(tmp_path, start, 31), 5.0, 5)
    config = write_fit_inputs(tmp_path, rows, 5, workers=2, service_cores=1, restamp=False)
    before = config.read_text()
    fit = load_fit_file(hosts_fit_file(config, 1))
    assert config.read_text() == before
    assert fit.hosts["box"].cpus == 1 and {n.host for n in fit.nodes.values()} == {"box"}
    assert fit.nodes["web"].concurrency == 2 and fit.nodes["web"].cpu.column == "web_cpu_pct"
    assert fit.nodes["db"].cpu.column == "db_cpu_pct" and not fit.latency.stats  # 5 periods: no p50/p99


def test_error_and_predicted_cpu():
    assert err_pct(110.0, 100.0) == pytest.approx(10.0)
    assert err_pct(1.0, 0.0) is None and err_pct(None, 3.0) is None
    answer = {
        "latency_ms": {"mean": 5, "p50": 4, "p95": 9, "p99": 12},
        "throughput_rps": 50,
        "error_pct": 0,
        "nodes": {"web": {"utilization": 0.2, "servers": 1}, "db": {"utilization": 0.1, "servers": 2}},
    }
    pred = predicted_stats(answer)
    assert (
        pred["cpu_web"] == pytest.approx(20.0)
        and pred["cpu_db"] == pytest.approx(20.0)
        and pred["cpu_cache"] is None
    )
    assert predicted_stats({"error": "refused"}) == {}


def test_periods_carry_percentiles_and_a_saved_run_gets_them_back_from_its_requests(tmp_path):
    from benchmarks.testbed.remodel import _with_percentiles

    start = 1_700_000_003.0
    run = _run(start)
    run.records = [  # latencies that differ, so the percentiles are not all one number
        Record(r.sched_s, r.sent_s, r.sent_s + 0.002 + 0.0001 * (i % 97), r.ok, r.cache, r.wrote, r.error)
        for i, r in enumerate(run.records)
    ]
    sampler = _fake_sampler(tmp_path, start, 31)
    rows = period_rows(run, sampler, 5.0, 5)
    assert all(2.0 <= r["latency_p50_ms"] <= r["latency_p99_ms"] <= 11.7 for r in rows)
    # a run saved before the percentiles: its rows without them, its requests logged as Run logs them
    with open(tmp_path / "requests.csv", "w") as f:
        f.write("phase,start_epoch_s,sched_s,sent_s,latency_ms,ok,cache,wrote,error\n")
        for r in run.records:
            f.write(f"fit-20%,{start:.3f},{r.sched_s:.4f},{r.sent_s:.4f},{r.latency_ms:.3f},{int(r.ok)},,,\n")
    m = measure("fit-20%", "fit", run, sampler, 5.0, {"workers": 2, "hit_ratio": 0.75})
    old = [
        {k: v for k, v in r.items() if not k.startswith("latency_p")}
        | {"wall": math.floor(r["wall"] / 5) * 5}  # the CSV's stamp
        for r in rows
    ]
    back = _with_percentiles(old, [m], 5, tmp_path / "requests.csv")
    for got, want in zip(back, rows):
        assert got["latency_p50_ms"] == pytest.approx(want["latency_p50_ms"], abs=1e-3)
        assert got["latency_p99_ms"] == pytest.approx(want["latency_p99_ms"], abs=1e-3)


def test_a_p99_interval_holds_the_truth_and_narrows_with_more_requests():
    import numpy as np

    from benchmarks.testbed.measure import p99_interval

    rng = np.random.default_rng(3)
    truth = 10.0 * math.log(100)  # exponential latency of mean 10 ms: its p99

    def interval(seconds: int, rate: float):
        sched = np.sort(rng.uniform(0, seconds, int(seconds * rate)))
        return p99_interval(list(sched), list(rng.exponential(10.0, len(sched))))

    short, long = interval(11, 200), interval(140, 200)  # a ramp step, a fit phase
    assert short[0] < truth < short[1] and long[0] < truth < long[1]
    assert long[1] - long[0] < 0.6 * (short[1] - short[0])
    assert interval(11, 15) is None  # 165 requests: the top 1% is one or two of them
    assert interval(3, 200) is None  # 3 seconds: too few blocks to resample


def test_ramp_steps_get_their_p99_interval_from_a_saved_runs_requests(tmp_path):
    from benchmarks.testbed.measure import p99_interval
    from benchmarks.testbed.ramp_report import ramp_table
    from benchmarks.testbed.remodel import _ramp_intervals

    rows = [(i * 0.01, 2.0 + (i * 7919 % 1000) / 100) for i in range(1500)]  # 15 s at 100 req/s
    with open(tmp_path / "requests.csv", "w") as f:
        f.write("phase,start_epoch_s,sched_s,sent_s,latency_ms,ok,cache,wrote,error\n")
        for sched, lat in rows:
            f.write(f"ramp 100,1700000000.000,{sched:.4f},{sched:.4f},{lat:.3f},1,hit,0,\n")
            f.write(f"fit-20%,1700000000.000,{sched:.4f},{sched:.4f},{3 * lat:.3f},1,hit,0,\n")
    steps = [RampStep(100.0, 100.0, 7.0, 11.9, 0.0), RampStep(120.0, 120.0, 9.0, 15.0, 0.0)]
    _ramp_intervals(steps, tmp_path / "requests.csv", warmup_s=3.75)
    kept = [(s, lat) for s, lat in rows if s >= 3.75]
    assert steps[0].p99_ci95_ms == p99_interval([s for s, _ in kept], [lat for _, lat in kept])
    assert steps[1].p99_ci95_ms is None  # no requests logged for it
    low, high = steps[0].p99_ci95_ms
    answers = {"sim": {"100.0": {"latency_ms": {"mean": 7.5, "p99": 12.0}}}}
    table = ramp_table([dataclasses.asdict(s) for s in steps], answers, 200.0)
    assert f"11.9 [{low:.1f}, {high:.1f}]" in table[2] and "[" not in table[3].split("|")[4]
