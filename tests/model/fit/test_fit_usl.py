"""The USL fit reproduces published coefficients on the data sets Gunther's book publishes.

Data: N. J. Gunther, Guerrilla Capacity Planning, Springer 2007, ch. 5 (also shipped as the
`specsdm91` and `raytracer` data sets of the R package `usl`, https://github.com/smoeding/usl).
Published coefficients, from that package's README and saved test output (tests/*.Rout.save,
R usl 2.0, nonlinear least squares with the scale lambda free):
  specsdm91: alpha (sigma) 0.0277285, beta (kappa) 0.0001044, gamma (lambda) 89.9952382, peak N 97;
             fitted values 90, 1078, 1541, 1850, 1879, 1822, 1646
  raytracer: alpha (sigma) 0.0578, beta (kappa) 0.0000, gamma (lambda) 21.8488
The tolerance is 0.5 % relative on sigma, kappa and lambda (the published figures have 4-6
significant digits) and 1 script/hour on the fitted values (published rounded to integers).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from model.fit.usl import UslError, fit_usl

SPECSDM91_USERS = [1, 18, 36, 72, 108, 144, 216]
SPECSDM91_SCRIPTS_PER_HOUR = [64.9, 995.9, 1652.4, 1853.2, 1828.9, 1775.0, 1702.2]
RAYTRACER_CPUS = [1, 4, 8, 12, 16, 20, 24, 28, 32, 48, 64]
RAYTRACER_OPS_PER_S = [20, 78, 130, 170, 190, 200, 210, 230, 260, 280, 310]


def test_specsdm91_matches_the_r_usl_package():
    usl = fit_usl(SPECSDM91_USERS, SPECSDM91_SCRIPTS_PER_HOUR)
    assert usl.sigma == pytest.approx(0.0277285, rel=0.005)
    assert usl.kappa == pytest.approx(0.0001044, rel=0.005)
    assert usl.lambda_ == pytest.approx(89.9952382, rel=0.005)
    assert round(usl.peak_n) == 97  # peak.scalability(u) printed as signif(., 2) = 97
    np.testing.assert_allclose(
        usl.throughput(np.array(SPECSDM91_USERS)), [90, 1078, 1541, 1850, 1879, 1822, 1646], atol=1.0
    )
    assert usl.sigma_ci95[0] < usl.sigma < usl.sigma_ci95[1]
    assert 0.9 < usl.r2 < 1.0


def test_raytracer_is_amdahl_no_coherency():
    usl = fit_usl(RAYTRACER_CPUS, RAYTRACER_OPS_PER_S)
    assert usl.sigma == pytest.approx(0.0578, rel=0.005)
    assert usl.lambda_ == pytest.approx(21.8488, rel=0.005)
    assert usl.kappa == pytest.approx(0.0, abs=1e-6)
    assert math.isinf(usl.peak_n)  # no retrograde region: throughput tends to lambda / sigma
    assert usl.peak_throughput == pytest.approx(21.8488 / 0.0578, rel=0.01)


def test_recovers_synthetic_truth_and_reports_it():
    n = np.array([1, 2, 4, 8, 16, 32, 64, 128], dtype=float)
    truth = 100 * n / (1 + 0.05 * (n - 1) + 0.0004 * n * (n - 1))
    usl = fit_usl(n, truth)
    assert (usl.sigma, usl.kappa, usl.lambda_) == pytest.approx((0.05, 0.0004, 100.0), rel=1e-4)
    assert usl.peak_n == pytest.approx(math.sqrt(0.95 / 0.0004), rel=1e-4)
    assert "sigma 0.05" in usl.to_text() and usl.to_json()["peak_n"] == pytest.approx(usl.peak_n)


@pytest.mark.parametrize(
    "n, x, message",
    [
        ([1, 2], [10, 19], "3 or more"),
        ([1, 2, 2, 1], [10, 19, 19, 10], "3 or more"),
        ([0, 2, 4], [1, 2, 3], "at least 1"),
        ([1, 2, 4], [10, float("nan"), 30], "finite"),
    ],
)
def test_refuses_what_cannot_be_fitted(n, x, message):
    with pytest.raises(UslError, match=message):
        fit_usl(n, x)
