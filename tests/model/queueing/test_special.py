"""model/queueing/special.py against scipy (the reference the solvers used before): the CLI no longer
imports scipy to answer, so these functions must agree with it wherever the solvers call them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from model.queueing import special as ours

SHAPES = [0.01, 0.05, 0.3, 1.0, 2.5, 10.0, 37.5, 100.0, 1e3, 1e4, 1e5]


def _relative(got, want, floor=1e-290):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    keep = want > floor
    return float(np.max(np.abs(got[keep] / want[keep] - 1.0))) if keep.any() else 0.0


@pytest.mark.parametrize("a", SHAPES)
def test_incomplete_gamma_matches_scipy_for_arrays_and_numbers(a):
    x = np.concatenate([np.geomspace(1e-6, 10 * a + 50, 400), a + np.linspace(-5, 5, 51) * math.sqrt(a)])
    x = x[x > 0]
    # Large shapes lose digits in x^a e^-x / Gamma(a) (a log x and x are ~1e6): 1e-9 there.
    tol = 1e-10 if a < 1e4 else 1e-9
    assert _relative(ours.gammainc(a, x), special.gammainc(a, x)) < tol
    assert _relative(ours.gammaincc(a, x), special.gammaincc(a, x)) < tol
    for value in x[::25]:
        assert ours.gammainc(a, float(value)) == pytest.approx(
            special.gammainc(a, value), rel=tol, abs=1e-300
        )
        assert ours.gammaincc(a, float(value)) == pytest.approx(
            special.gammaincc(a, value), rel=tol, abs=1e-300
        )


@pytest.mark.parametrize("a", SHAPES)
@pytest.mark.parametrize("p", [1e-13, 1e-6, 0.01, 0.3, 0.5, 0.9, 0.999999, 1 - 1e-13])
def test_inverse_incomplete_gamma_matches_scipy(a, p):
    assert ours.gammaincinv(a, p) == pytest.approx(special.gammaincinv(a, p), rel=1e-10, abs=1e-300)
    assert ours.gammainccinv(a, p) == pytest.approx(special.gammainccinv(a, p), rel=1e-10, abs=1e-300)


def test_log_gamma_for_arrays():
    a = np.concatenate([np.geomspace(1e-3, 1e6, 1000), np.arange(1, 3000)])
    assert (
        np.max(np.abs(ours.gammaln(a) - special.gammaln(a)) / np.maximum(1, np.abs(special.gammaln(a))))
        < 1e-12
    )
    assert ours.gammaln(7.5) == math.lgamma(7.5)


@pytest.mark.parametrize("mean", [0.01, 1.0, 7.3, 100.0, 1e4, 1.2e5])
def test_poisson_tails_match_scipy(mean):
    k = np.arange(0, int(3 * mean + 50))
    tol = 1e-12 if mean <= 100 else 1e-9
    assert _relative(ours.pdtr(k, mean), special.pdtr(k, mean)) < tol
    assert _relative(ours.pdtrc(k, mean), special.pdtrc(k, mean)) < tol
    assert ours.pdtr(int(mean), mean) == pytest.approx(special.pdtr(int(mean), mean), rel=tol)
    by_count = ours.poisson_sf_by_count(len(k) - 1, mean)
    assert np.max(np.abs(by_count - special.pdtrc(k, mean))) < 1e-8
    assert _relative(by_count, special.pdtrc(k, mean), floor=1e-100) < 1e-8


@pytest.mark.parametrize("k, p", [(1, 0.5), (3, 1 / 12), (50, 0.1), (100_000, 1 / 3)])
def test_binomial_tail_over_trials_matches_scipy(k, p):
    n_max = int(k / p * 1.5) + 5
    n = np.arange(n_max + 1)
    want = np.where(n >= k, special.bdtrc(k - 1, n, p), 0.0)
    assert np.max(np.abs(ours.binomial_sf_by_trials(k, n_max, p) - want)) < 1e-8


@pytest.mark.parametrize("df", [1, 2, 4, 5, 9, 19, 30, 200])
@pytest.mark.parametrize("q", [0.6, 0.95, 0.975, 0.995, 0.025])
def test_student_t_quantile_matches_scipy(df, q):
    assert ours.t_quantile(q, df) == pytest.approx(stats.t.ppf(q, df), rel=1e-10)


@pytest.mark.parametrize(
    "f, a, b",
    [
        (lambda t: t**3 - 2 * t - 5, 2.0, 3.0),
        (math.cos, 0.0, 3.0),
        (lambda t: math.exp(t) - 1e6, 0.0, 50.0),
        (lambda t: t - 1e-9, 0.0, 1.0),
    ],
)
def test_brent_root_matches_scipy(f, a, b):
    assert ours.brentq(f, a, b, xtol=1e-14) == pytest.approx(
        optimize.brentq(f, a, b, xtol=1e-14), rel=1e-12, abs=1e-14
    )
    with pytest.raises(ValueError):
        ours.brentq(lambda t: t * t + 1, -1.0, 1.0)
