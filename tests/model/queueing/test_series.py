"""Load through time in buckets (model/queueing/sim/series.py): counting, widths, and the recovery rule."""

from __future__ import annotations

import math

import pytest

from model.queueing.sim.series import LoadSeries, bucket_width_s, load_series


def test_bucket_widths_are_round_and_at_most_120_buckets():
    assert bucket_width_s(60) == 0.5 and bucket_width_s(120) == 1 and bucket_width_s(180) == 2
    assert bucket_width_s(3600) == 30 and bucket_width_s(86_400) == 900
    for duration in (1, 7, 59.5, 600, 10_000, 86_400):
        assert duration / bucket_width_s(duration) <= 120


def test_events_are_counted_per_second_in_the_bucket_they_happened():
    s = load_series(
        duration_ms=2500.0,
        bucket_s=1.0,
        requests_ms=[0, 100, 999, 1000, 2400],
        retries_ms=[500, 1500],
        answered_ms=[200, 1200, 1300],
        failed_ms=[2100],
    )
    assert s.start_s == [0.0, 1.0, 2.0]
    assert s.requests_rps == [3.0, 1.0, 2.0]  # the last bucket is half a second long: 1 in 0.5 s
    assert s.offered_rps == [4.0, 2.0, 2.0]
    assert s.goodput_rps == [1.0, 2.0, 0.0]
    assert s.errors_rps == [0.0, 0.0, 2.0]
    assert s.to_json()["bucket_s"] == 1.0 and s.to_json()["offered_rps"] == [4.0, 2.0, 2.0]


def series(goodput: list[float], errors: list[float], requests: float = 10.0) -> LoadSeries:
    n = len(goodput)
    return LoadSeries(1.0, [float(i) for i in range(n)], [requests] * n, [requests] * n, goodput, errors)


def test_recovery_is_the_first_bucket_after_which_every_bucket_is_healthy():
    s = series([10, 2, 0, 5, 9, 10, 10], [0, 5, 8, 1, 0, 0, 0])
    assert s.recovered_at_s(1.0) == 4.0  # 5% of 10 requests is 0.5 errors a second
    assert s.recovered_at_s(5.0) == 5.0  # not before the burst's end
    assert series([10, 0, 0], [0, 9, 9]).recovered_at_s(1.0) is None  # still failing at the end


def test_a_system_falling_behind_without_errors_has_not_recovered():
    """No timeouts, so no errors: but only half the requests are answered, the backlog grows."""
    assert series([10, 5, 5, 5], [0, 0, 0, 0]).recovered_at_s(1.0) is None


def test_the_end_is_the_last_tenth():
    s = series([10.0] * 18 + [2.0, 4.0], [0.0] * 20)
    end = s.end()
    assert end["from_s"] == 18.0 and end["goodput_rps"] == 3.0 and end["requests_rps"] == 10.0
    assert math.isnan(s.mean_between(50, 60)["goodput_rps"])
    assert series([7.0], [0.0]).end()["goodput_rps"] == pytest.approx(7.0)
