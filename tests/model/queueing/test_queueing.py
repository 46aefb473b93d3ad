"""One-pool formulas and the delay grid against theory computed independently here.

Reference values come from textbook closed forms written out in this file (factorial-sum
Erlang C, balance equations of M/M/1/K, sums of Erlang CDFs, numerical integration), never
from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from model.queueing.analytic.delay_grid import (
    Exponential,
    Fixed,
    Gamma,
    Mixture,
    Repeat,
    Sum,
    distribution_of,
    service_delay,
)
from model.queueing.distributions import ServiceTime
from model.queueing.analytic.formulas import (
    erlang_c,
    min_servers_for_quantile,
    mixture_quantile,
    mgc_wait_mean_allen_cunneen,
    mm1k,
    mmc_response_quantile,
    mmc_wait_mean,
    pk_wait_mean,
    pool_wait,
    response_quantile,
)

QUANTILES = (0.5, 0.95, 0.99)


def erlang_c_textbook(c: int, a: float) -> float:
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def mmc_response_cdf_by_quad(c: int, arrival_rps: float, service_ms: float, t_ms: float) -> float:
    """(1 - C) Exp(mu) + C (Exp(c mu - lambda) * Exp(mu)), the convolution integrated numerically."""
    mu, lam = 1.0 / service_ms, arrival_rps / 1000.0
    waits = erlang_c_textbook(c, lam / mu)
    alpha = c * mu - lam
    conv, _ = integrate.quad(
        lambda u: alpha * math.exp(-alpha * u) * (1 - math.exp(-mu * (t_ms - u))), 0, t_ms
    )
    return (1 - waits) * (1 - math.exp(-mu * t_ms)) + waits * conv


def quantile_of(cdf, q: float, high: float) -> float:
    return optimize.brentq(lambda t: cdf(t) - q, 0.0, high, xtol=1e-10)


# ---------------------------------------------------------------- waits and Erlang C


def test_erlang_c_matches_the_factorial_formula_and_a_textbook_value():
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-12)  # M/M/2 at rho 0.5
    assert erlang_c(1, 0.7) == pytest.approx(0.7, rel=1e-12)  # M/M/1: P(wait) = rho
    for c, a in [(3, 2.5), (8, 5.0), (20, 17.3), (50, 45.0)]:
        assert erlang_c(c, a) == pytest.approx(erlang_c_textbook(c, a), rel=1e-10)
    assert erlang_c(4, 4.0) == 1.0 and erlang_c(4, 0.0) == 0.0


def test_erlang_c_is_stable_for_thousands_of_servers():
    value = erlang_c(2000, 1950.0)
    assert 0.0 < value < 1.0
    assert erlang_c(2000, 1999.9) > erlang_c(2000, 1950.0)


def test_mm1_and_mmc_mean_waits():
    # M/M/1, lambda 80/s, mu 100/s: Wq = rho / (mu - lambda) = 0.8 / 20 s = 40 ms
    assert mmc_wait_mean(1, 80, 10) == pytest.approx(40.0, rel=1e-12)
    # M/M/3 with a = 2.5: Wq = C * s / (c - a)
    assert mmc_wait_mean(3, 250, 10) == pytest.approx(erlang_c_textbook(3, 2.5) * 10 / 0.5, rel=1e-10)
    assert mmc_wait_mean(2, 200, 10) == math.inf


def test_pollaczek_khinchine_for_md1_and_cv2():
    # M/D/1, rho 0.7, s 10 ms: Wq = rho s / (2 (1 - rho))
    assert pk_wait_mean(70, 10, 0.0) == pytest.approx(0.7 * 10 / (2 * 0.3), rel=1e-12)
    # M/G/1 with cv 2: E[S^2] = s^2 (1 + 4); Wq = lambda E[S^2] / (2 (1 - rho))
    assert pk_wait_mean(70, 10, 4.0) == pytest.approx(0.070 * 500 / (2 * 0.3), rel=1e-12)
    # Allen-Cunneen with one server is Pollaczek-Khinchine
    assert mgc_wait_mean_allen_cunneen(1, 70, 10, 4.0) == pytest.approx(pk_wait_mean(70, 10, 4.0), rel=1e-12)


# ---------------------------------------------------------------- response quantiles


@pytest.mark.parametrize("q", QUANTILES)
def test_mm1_response_quantile_is_the_closed_form(q):
    assert mmc_response_quantile(1, 80, 10, q) == pytest.approx(-math.log(1 - q) * 50.0, rel=1e-9)


@pytest.mark.parametrize("q", QUANTILES)
def test_mmc_response_quantile_against_numerical_convolution(q):
    expected = quantile_of(lambda t: mmc_response_cdf_by_quad(3, 250, 10, t), q, 1000.0)
    assert mmc_response_quantile(3, 250, 10, q) == pytest.approx(expected, rel=1e-6)


def test_min_servers_for_quantile_is_the_fewest_that_meet_the_target():
    arrival_rps, service_ms, target_ms = 900.0, 20.0, 100.0
    found = min_servers_for_quantile(arrival_rps, ServiceTime(service_ms, 1.0), 0.99, target_ms)
    p99 = lambda c: quantile_of(
        lambda t: mmc_response_cdf_by_quad(c, arrival_rps, service_ms, t), 0.99, 5000.0
    )
    assert p99(found) <= target_ms < p99(found - 1)
    assert found > 19  # 18 erlangs of load: more than the fewest stable pool
    # The service alone needs 92 ms at p99 (20 * ln 100): no number of servers reaches 90 ms.
    assert min_servers_for_quantile(arrival_rps, ServiceTime(service_ms, 1.0), 0.99, 90.0) is None


def test_mg1_response_quantile_against_numerical_convolution():
    """Gamma service (cv 2) after the solver's wait model: atom rho at 0, else exponential."""
    arrival_rps, service = 50.0, ServiceTime(10.0, 2.0)
    rho, wait_ms = 0.5, pk_wait_mean(50.0, 10.0, 4.0)
    alpha = rho / wait_ms
    served = stats.gamma(0.25, scale=40.0).cdf

    def cdf(t):
        conv, _ = integrate.quad(lambda u: alpha * math.exp(-alpha * u) * served(t - u), 0, t, limit=200)
        return (1 - rho) * served(t) + rho * conv

    for q in QUANTILES:
        expected = quantile_of(cdf, q, 2000.0)
        assert response_quantile(1, arrival_rps, service, q) == pytest.approx(expected, rel=2e-3)


# ---------------------------------------------------------------- the delay grid


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.95, 0.99])
def test_grid_percentiles_of_mm1_within_half_a_percent(rho):
    service_ms = 10.0
    arrival_rps = rho * 100.0
    delay = Sum([pool_wait(1, arrival_rps, ServiceTime(service_ms)), service_delay(ServiceTime(service_ms))])
    dist = distribution_of(delay)
    theta = service_ms / (1 - rho)
    assert delay.mean_ms == pytest.approx(theta, rel=1e-12)
    for q in QUANTILES:
        assert dist.quantile(q) == pytest.approx(-math.log(1 - q) * theta, rel=1e-3)


def test_grid_hypoexponential_tandem_percentiles():
    a, b = 1 / 20.0, 1 / 50.0
    dist = distribution_of(Sum([Exponential(20.0), Exponential(50.0)]))
    cdf = lambda t: 1 - (b * math.exp(-a * t) - a * math.exp(-b * t)) / (b - a)
    for q in QUANTILES:
        assert dist.quantile(q) == pytest.approx(quantile_of(cdf, q, 5000.0), rel=1e-3)


def test_grid_gamma_fixed_and_mixtures():
    dist = distribution_of(Gamma(10.0, 4.0))
    for q in QUANTILES:
        assert dist.quantile(q) == pytest.approx(stats.gamma.ppf(q, 0.25, scale=40.0), rel=1e-3)
    shifted = distribution_of(Sum([Fixed(7.3), Exponential(3.0)]))
    for q in QUANTILES:
        assert shifted.quantile(q) == pytest.approx(7.3 - 3.0 * math.log(1 - q), rel=1e-3)
    # 1.5 visits of Exp(10): Exp(10) or Erlang(2, 10) with equal odds
    repeat = Repeat(Exponential(10.0), 1.5)
    assert repeat.mean_ms == pytest.approx(15.0) and repeat.var_ms2 == pytest.approx(1.5 * 100 + 0.25 * 100)
    cdf = lambda t: 0.5 * stats.expon.cdf(t, scale=10) + 0.5 * stats.gamma.cdf(t, 2, scale=10)
    dist = distribution_of(repeat)
    for q in QUANTILES:
        assert dist.quantile(q) == pytest.approx(quantile_of(cdf, q, 1000.0), rel=1e-3)
    # a bimodal hit/miss mixture: small median, long tail
    hit_miss = Mixture([(0.9, Exponential(0.5)), (0.1, Exponential(50.0))])
    cdf = lambda t: 0.9 * stats.expon.cdf(t, scale=0.5) + 0.1 * stats.expon.cdf(t, scale=50)
    dist = distribution_of(hit_miss)
    for q in QUANTILES:
        assert dist.quantile(q) == pytest.approx(quantile_of(cdf, q, 1000.0), rel=5e-3)


def test_grid_cdf_and_conditional_mean():
    dist = distribution_of(Exponential(10.0))
    assert dist.cdf(20.0) == pytest.approx(1 - math.exp(-2), abs=1e-5)
    # E[X | X <= 20] for Exp(10) = 10 - 20 e^-2 / (1 - e^-2)
    assert dist.mean_below(20.0) == pytest.approx(10 - 20 * math.exp(-2) / (1 - math.exp(-2)), rel=2e-3)


# ---------------------------------------------------------------- M/M/1/K


def mm1k_by_balance(lam: float, mu: float, k: int) -> tuple[float, float, np.ndarray]:
    """Blocking, mean sojourn (Little) and the state probabilities, from pi_n proportional to rho^n."""
    n = np.arange(k + 1)
    log_w = n * math.log(lam / mu)
    pi = np.exp(log_w - log_w.max())
    pi /= pi.sum()
    in_system = float(np.dot(n, pi))
    return float(pi[-1]), in_system / (lam * (1 - pi[-1])) * 1000.0, pi


def mm1k_sojourn_cdf_by_sum(pi: np.ndarray, mu: float, t_ms: float) -> float:
    found = pi[:-1] / pi[:-1].sum()
    return float(np.dot(found, stats.gamma.cdf(t_ms / 1000.0, np.arange(len(found)) + 1, scale=1 / mu)))


@pytest.mark.parametrize(
    "lam,mu,k",
    [
        (30, 50, 5),
        (40, 50, 20),
        (50.0001, 50, 20),
        (80, 50, 20),
        (75, 50, 2000),
        (120, 50, 1),
        (45, 50, 3000),
    ],
)
def test_mm1k_blocking_sojourn_and_distribution(lam, mu, k):
    blocking, sojourn_ms, pi = mm1k_by_balance(lam, mu, k)
    queue = mm1k(lam, mu, k)
    assert queue.blocking_prob == pytest.approx(blocking, rel=1e-6, abs=1e-300)
    assert queue.mean_sojourn_ms == pytest.approx(sojourn_ms, rel=1e-6)
    for q in (0.5, 0.99):
        t = queue.quantile_ms(q)
        assert mm1k_sojourn_cdf_by_sum(pi, mu, t) == pytest.approx(q, abs=1e-7)


def test_mm1k_far_beyond_saturation_with_a_deep_partition():
    """rho 1.5 and K 300000: the Poisson tails underflow doubles; the log path must hold."""
    queue = mm1k(75.0, 50.0, 300_000)
    assert queue.blocking_prob == pytest.approx(1 / 3, rel=1e-9)
    assert queue.mean_sojourn_ms == pytest.approx((300_000 - 1 - 2 + 1) * 20.0, rel=1e-6)
    _, _, pi = mm1k_by_balance(75.0, 50.0, 300_000)
    for q in (0.5, 0.99):
        assert mm1k_sojourn_cdf_by_sum(pi, 50.0, queue.quantile_ms(q)) == pytest.approx(q, abs=1e-7)


def test_mixture_quantile():
    parts = [(0.25, stats.expon(scale=10).cdf, 10.0), (0.75, stats.expon(scale=30).cdf, 30.0)]
    q99 = mixture_quantile(parts, 0.99)
    assert 0.25 * stats.expon.cdf(q99, scale=10) + 0.75 * stats.expon.cdf(q99, scale=30) == pytest.approx(
        0.99
    )
