"""Mean-value analysis against answers computed another way: closed forms and Buzen's convolution.

The convolution algorithm computes the product-form normalising constant G(N) directly from each
station's unnormalised queue-length weights (D^j / prod a(i), and Z^j / j! for the think time), so
X(N) = G(N - 1) / G(N) shares nothing with MVA's recursion but the model.
"""

from __future__ import annotations


import numpy as np
import pytest

from model.queueing.mva import EXACT_USERS, MvaStation, mva, schweitzer
from tests.model.queueing.mva_reference import convolution_throughput


def repairman_throughput(service_s: float, think_s: float, users: int, servers: int = 1) -> float:
    """The machine-repairman birth-death chain, solved directly."""
    p = [1.0]
    for k in range(1, users + 1):
        p.append(p[-1] * (users - k + 1) / think_s * service_s / min(k, servers))
    total = sum(p)
    return sum(pk * min(k, servers) / service_s for k, pk in enumerate(p)) / total


@pytest.mark.parametrize("users", [1, 2, 5, 20, 80])
@pytest.mark.parametrize("servers", [1, 3])
def test_single_station_matches_the_birth_death_chain(users, servers):
    curve = mva([MvaStation("cpu", 0.05, servers)], 0.4, 0.0, users)
    assert curve.throughput_rps[-1] == pytest.approx(
        repairman_throughput(0.05, 0.4, users, servers), rel=1e-9
    )
    # Little's law over the whole loop
    assert curve.throughput_rps[-1] * (0.4 + curve.response_s[-1]) == pytest.approx(users, rel=1e-9)


def test_single_station_without_think_time_runs_flat_out():
    curve = mva([MvaStation("cpu", 0.01)], 0.0, 0.0, 10)
    assert np.allclose(curve.throughput_rps, 100.0)
    assert np.allclose(curve.response_s, 0.01 * np.arange(1, 11))


@pytest.mark.parametrize("users", [1, 4, 15, 40])
def test_multi_station_network_matches_convolution(users):
    stations = [MvaStation("web", 0.030, 2), MvaStation("cache", 0.004), MvaStation("db", 0.020, 4)]
    think = 0.5
    curve = mva(stations, think, 0.0, users)
    expected = convolution_throughput([(0.030, [1, 2]), (0.004, [1]), (0.020, [1, 2, 3, 4])], think, users)
    assert curve.throughput_rps[-1] == pytest.approx(expected, rel=1e-9)
    # every user is somewhere: thinking or at a station
    assert curve.queue[-1].sum() + curve.throughput_rps[-1] * think == pytest.approx(users, rel=1e-9)


def test_utilization_law_and_bottleneck_bound():
    stations = [MvaStation("a", 0.02), MvaStation("b", 0.05, 2)]
    curve = mva(stations, 1.0, 0.0, 300)
    x = curve.throughput_rps
    assert np.allclose(curve.utilization[:, 0], x * 0.02)
    assert np.allclose(curve.utilization[:, 1], x * 0.05 / 2)
    assert x[-1] <= 40.0 + 1e-9 and x[-1] == pytest.approx(40.0, rel=1e-3)  # b's capacity: 2 / 0.05
    assert np.all(np.diff(x) >= -1e-12)  # throughput never falls as users are added


def test_flow_equivalent_server_is_a_load_dependent_station():
    rates = (1.0, 1.8, 2.4, 2.7)
    curve = mva([MvaStation("fes", 0.1, 1, 1.0, rates), MvaStation("q", 0.03)], 0.2, 0.0, 12)
    expected = convolution_throughput([(0.1, list(rates)), (0.03, [1])], 0.2, 12)
    assert curve.throughput_rps[-1] == pytest.approx(expected, rel=1e-9)


def test_fixed_delays_are_in_the_response():
    with_delay = mva([MvaStation("a", 0.01)], 0.1, 0.05, 5)
    assert with_delay.response_s[0] == pytest.approx(0.06)
    assert with_delay.throughput_rps[0] == pytest.approx(1 / 0.16)


def test_residual_life_correction_for_deterministic_service():
    """One user never queues, whatever the service's shape; with more, a request that finds the server
    busy waits for the remaining service, shorter for a fixed time and longer for a variable one."""
    fixed = mva([MvaStation("a", 0.01, 1, 0.0)], 0.1, 0.0, 3)
    expo = mva([MvaStation("a", 0.01)], 0.1, 0.0, 3)
    heavy = mva([MvaStation("a", 0.01, 1, 4.0)], 0.1, 0.0, 3)
    assert fixed.response_s[0] == expo.response_s[0] == heavy.response_s[0] == pytest.approx(0.01)
    assert fixed.response_s[-1] < expo.response_s[-1] < heavy.response_s[-1]


@pytest.mark.parametrize("users", [50, 400])
def test_schweitzer_is_within_a_few_percent_of_exact(users):
    stations = [MvaStation("a", 0.02), MvaStation("b", 0.015), MvaStation("c", 0.01, 2)]
    exact = mva(stations, 1.0, 0.0, users).throughput_rps[-1]
    approx, _ = schweitzer(stations, 1.0, 0.0, users)
    assert approx == pytest.approx(exact, rel=0.05)


def test_above_the_exact_size_seidmann_stays_close_and_bounded():
    users = EXACT_USERS + 500
    stations = [MvaStation("a", 0.002, 4), MvaStation("b", 0.0004)]
    curve = mva(stations, 10.0, 0.0, users)
    assert curve.method == "seidmann"
    x = curve.throughput_rps[-1]
    bound = min(users / (10.0 + 0.0024), 4 / 0.002)
    assert x <= bound * (1 + 1e-9)
    assert x == pytest.approx(bound, rel=0.02)


def test_very_large_populations_use_the_fixed_point_on_sampled_counts():
    curve = mva([MvaStation("a", 0.001)], 5.0, 0.0, 200_000)
    assert curve.method == "schweitzer" and curve.users[-1] == 200_000
    assert curve.throughput_rps[-1] == pytest.approx(1000.0, rel=1e-3)
    assert curve.users[curve.at(150_000)] <= 150_000
