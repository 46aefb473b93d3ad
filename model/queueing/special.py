"""The few special functions the solvers need, in numpy: incomplete gamma and its inverse,
Poisson and binomial tails, Student's t quantile, and a bracketed root finder.

Why not scipy: `import scipy.special` costs about 0.5 s (its array-API layer clones all of
numpy, f2py and numpy.testing included) and `scipy.optimize` 0.25 s more, more than the
analytic answer itself. These are the textbook algorithms (series and Lentz continued
fractions for the incomplete gamma and beta, Halley's method for the inverse, Brent's
root finder), checked against scipy to 1e-9 relative in tests/model/queueing/test_special.py.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

_EPS = 1e-16
_TINY = 1e-300
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def gammaln(a):
    """log Gamma(a) for a > 0: math.lgamma for a number; Stirling's series (shifted to a >= 8,
    error below 1e-14) for an array."""
    if np.ndim(a) == 0:
        return math.lgamma(float(a))
    a = np.asarray(a, dtype=float)
    shift = np.zeros_like(a)
    x = a.copy()
    small = x < 8.0
    if small.any():
        prod = np.ones_like(a)
        for i in range(8):
            prod = np.where(small, prod * (a + i), prod)
        shift = np.where(small, np.log(prod), 0.0)
        x = np.where(small, a + 8.0, a)
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 / 1188))))
    return (x - 0.5) * np.log(x) - x + _HALF_LOG_2PI + series - shift


def _gamma_pq(a, x) -> tuple:
    """(P(a, x), Q(a, x)), the regularized incomplete gamma functions, each computed on the
    side where it is not close to 1 (series below x = a + 1, continued fraction above).
    Numbers in, numbers out (pure Python, a few microseconds); arrays in, arrays out."""
    if np.ndim(a) == 0 and np.ndim(x) == 0:
        return _gamma_pq_number(float(a), float(x))
    a, x = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(x, dtype=float))
    shape = a.shape
    a, x = a.ravel(), x.ravel()
    p, q = np.zeros(a.size), np.ones(a.size)
    positive = x > 0
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        log_front = np.where(positive, a * np.log(np.where(positive, x, 1.0)) - x - gammaln(a), -np.inf)
        series = np.flatnonzero(positive & (x < a + 1.0))
        if series.size:
            p[series] = np.exp(log_front[series]) * _series(a[series], x[series])
            q[series] = 1.0 - p[series]
        fraction = np.flatnonzero(positive & (x >= a + 1.0))
        if fraction.size:
            q[fraction] = np.exp(log_front[fraction]) * _fraction(a[fraction], x[fraction])
            p[fraction] = 1.0 - q[fraction]
    return p.reshape(shape), q.reshape(shape)


def _gamma_pq_number(a: float, x: float) -> tuple[float, float]:
    if x <= 0.0:
        return 0.0, 1.0
    front = math.exp(a * math.log(x) - x - math.lgamma(a))
    if x < a + 1.0:
        total = term = 1.0 / a
        ap = a
        for _ in range(100_000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) <= abs(total) * _EPS:
                break
        p = front * total
        return p, 1.0 - p
    b = x + 1.0 - a
    c, d = 1.0 / _TINY, 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) <= _EPS:
            break
    q = front * h
    return 1.0 - q, q


def _series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_n x^n / (a (a+1) ... (a+n)); the arrays shrink to the entries not yet converged."""
    total = 1.0 / a
    out = total.copy()
    term, ap, idx = total.copy(), a.copy(), np.arange(a.size)
    for i in range(100_000):
        ap += 1.0
        term *= x / ap
        total += term
        if i % 8 == 7:
            going = np.abs(term) > np.abs(total) * _EPS
            if not going.all():
                out[idx[~going]] = total[~going]
                if not going.any():
                    return out
                idx, total, term, ap, x = idx[going], total[going], term[going], ap[going], x[going]
    out[idx] = total
    return out


def _fraction(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The continued fraction for Q(a, x) e^x x^-a Gamma(a), by the modified Lentz method."""
    b = x + 1.0 - a
    c = np.full(a.size, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    out = h.copy()
    idx = np.arange(a.size)
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d[np.abs(d) < _TINY] = _TINY
        c = b + an / c
        c[np.abs(c) < _TINY] = _TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if i % 4 == 0:
            going = np.abs(delta - 1.0) > _EPS
            if not going.all():
                out[idx[~going]] = h[~going]
                if not going.any():
                    return out
                idx, a, b, c, d, h = idx[going], a[going], b[going], c[going], d[going], h[going]
    out[idx] = h
    return out


def _scalar_or_array(value):
    return float(value) if np.ndim(value) == 0 else value


def gammainc(a, x):
    """P(a, x): the regularized lower incomplete gamma function (the Gamma(a, 1) CDF at x)."""
    return _scalar_or_array(_gamma_pq(a, x)[0])


def gammaincc(a, x):
    """Q(a, x) = 1 - P(a, x), accurate where it is small."""
    return _scalar_or_array(_gamma_pq(a, x)[1])


def pdtr(k, mean):
    """P(Poisson(mean) <= k) for whole k >= 0."""
    return gammaincc(np.asarray(k, dtype=float) + 1.0, mean)


def pdtrc(k, mean):
    """P(Poisson(mean) > k) for whole k >= 0."""
    return gammainc(np.asarray(k, dtype=float) + 1.0, mean)


def _gamma_inverse(a: float, target: float, upper: bool) -> float:
    """x with P(a, x) = target (Q(a, x) with `upper`), solving on the side whose value is
    small so that 1e-13 tails keep their digits: Halley steps from Wilson-Hilferty's start."""
    if not 0.0 <= target <= 1.0 or not a > 0:
        return math.nan
    if target in (0.0, 1.0):
        return math.inf if (target == 0.0) == upper else 0.0
    p_goal, q_goal = (1.0 - target, target) if upper else (target, 1.0 - target)
    on_q = p_goal >= 0.5  # solve on Q where Q is the small one; both errors rise with x
    log_gamma = math.lgamma(a)
    # Starting point (Numerical Recipes' invgammp).
    if a > 1.0:
        t = math.sqrt(-2.0 * math.log(max(min(p_goal, q_goal), 1e-300)))
        z = (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481)) - t
        if p_goal < 0.5:
            z = -z
        x = max(1e-3, a * (1.0 - 1.0 / (9.0 * a) - z / (3.0 * math.sqrt(a))) ** 3)
    else:
        t = 1.0 - a * (0.253 + a * 0.12)
        if p_goal < t:
            x = (p_goal / t) ** (1.0 / a)
        else:
            x = 1.0 - math.log1p(-(p_goal - t) / (1.0 - t))
    for _ in range(200):
        if x <= 0.0:
            return 0.0
        p, q = _gamma_pq_number(a, x)
        err = q_goal - q if on_q else p - p_goal
        density = math.exp((a - 1.0) * math.log(x) - x - log_gamma)
        if density <= 0.0:
            break
        u = err / density
        step = u / (1.0 - 0.5 * min(1.0, u * ((a - 1.0) / x - 1.0)))
        new_x = x - step
        if new_x <= 0.0:
            new_x = 0.5 * x
        if abs(new_x - x) <= 1e-14 * new_x:
            return new_x
        x = new_x
    return x


def gammaincinv(a: float, p: float) -> float:
    """x with P(a, x) = p."""
    return _gamma_inverse(float(a), float(p), upper=False)


def gammainccinv(a: float, q: float) -> float:
    """x with Q(a, x) = q."""
    return _gamma_inverse(float(a), float(q), upper=True)


def binomial_sf_by_trials(k: int, n_max: int, p: float) -> np.ndarray:
    """P(Binomial(n, p) >= k) for n = 0 .. n_max, by the recurrence in n: one more trial
    reaches k when n trials had k - 1 successes and it succeeds. O(n_max), no cancellation
    (a sum of positive terms); log C(n, k - 1) is a running sum of log((n + 1) / (n + 2 - k))."""
    out = np.zeros(n_max + 1)
    if k <= 0:
        return np.ones(n_max + 1)
    if n_max < k or p <= 0.0:
        return out
    if p >= 1.0:
        out[k:] = 1.0
        return out
    n = np.arange(k - 1, n_max)  # n trials with k - 1 successes, n = k-1 .. n_max-1
    log_choose = np.concatenate([[0.0], np.cumsum(np.log((n[:-1] + 1.0) / (n[:-1] + 2.0 - k)))])
    log_pmf = log_choose + (k - 1) * math.log(p) + (n - (k - 1)) * math.log1p(-p)
    out[k:] = np.minimum(1.0, np.cumsum(p * np.exp(log_pmf)))
    return out


def poisson_sf_by_count(k_max: int, mean: float) -> np.ndarray:
    """P(Poisson(mean) > k) for k = 0 .. k_max: the pmf from mean - (40 sd + 40), below which P(N > k)
    is 1 in floating point, up to where its terms underflow (e^-750), summed down from the top so a
    small tail keeps its digits. O(k_max + sd), however large k_max is: a Kafka
    partition's lag asks for up to max_backlog counts at every step of a quantile search."""
    out = np.zeros(k_max + 1)
    if mean <= 0.0:
        return out
    spread = 40.0 * math.sqrt(mean) + 40.0
    lo, hi = max(0, int(mean - spread)), int(mean + spread) + 1
    log_mean = math.log(mean)
    while hi * log_mean - mean - math.lgamma(hi + 1.0) > -750.0:  # a small mean's upper tail is long: go on
        hi *= 2  # until the terms underflow
    j = np.arange(lo, hi + 1, dtype=float)
    log_factorial = math.lgamma(lo + 1.0) + np.concatenate(
        [[0.0], np.cumsum(np.log(j[1:]))]
    )  # log j! on the window
    pmf = np.exp(j * log_mean - mean - log_factorial)
    above = np.cumsum(pmf[::-1])[::-1]  # above[i] = P(N >= lo + i)
    first, last = max(lo - 1, 0), min(hi - 1, k_max)  # P(N > k) = above[k + 1 - lo] for k in [lo - 1, hi - 1]
    out[:first] = 1.0
    if last >= first:
        out[first : last + 1] = above[first + 1 - lo : last + 2 - lo]
    return np.minimum(1.0, out)


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + aa / c
            c = c if abs(c) > _TINY else _TINY
            delta = d * c
            h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def t_quantile(q: float, df: float) -> float:
    """The q-quantile of Student's t with df degrees of freedom (bisection-safe Brent on the CDF)."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q}")
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -t_quantile(1.0 - q, df)
    tail = 1.0 - q  # P(T > t) = I_{df/(df+t^2)}(df/2, 1/2) / 2

    def excess(t: float) -> float:
        return 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t)) - tail

    high = 1.0
    while excess(high) > 0.0:
        high *= 2.0
    return brentq(excess, 0.0, high, xtol=1e-14, rtol=1e-13)


def brentq(
    f: Callable[[float], float],
    a: float,
    b: float,
    xtol: float = 2e-12,
    rtol: float = 4 * _EPS,
    maxiter: int = 200,
) -> float:
    """A root of f in [a, b], where f(a) and f(b) differ in sign (Brent's method)."""
    fa, fb = f(a), f(b)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if (fa > 0) == (fb > 0):
        raise ValueError("f(a) and f(b) must have different signs")
    c, fc = a, fa
    d = e = b - a
    for _ in range(maxiter):
        if (fb > 0) == (fc > 0):
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 2.0 * rtol * abs(b) + 0.5 * xtol
        m = 0.5 * (c - b)
        if abs(m) <= tol or fb == 0.0:
            return b
        if abs(e) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:
                p, q = 2.0 * m * s, 1.0 - s
            else:
                q, r = fa / fc, fb / fc
                p = s * (2.0 * m * q * (q - r) - (b - a) * (r - 1.0))
                q = (q - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0:
                q = -q
            p = abs(p)
            if 2.0 * p < min(3.0 * m * q - abs(tol * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = m
        else:
            d = e = m
        a, fa = b, fb
        b += d if abs(d) > tol else (tol if m > 0 else -tol)
        fb = f(b)
    return b
