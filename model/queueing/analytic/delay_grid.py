"""Delays as random variables: exact moments, and their distribution on a common time grid.

A request's end-to-end latency is a sum (visits one after another) and a mixture (cache hit
or miss, which replica, how many calls) of independent per-visit delays. Means compose
exactly from moments, but percentiles need the distribution. So each delay also gives its
discrete Fourier transform on a shared grid, where a sum is a product and a mixture a
weighted sum, and a single inverse FFT yields the whole end-to-end distribution. Each
elementary delay is discretised from its exact CDF (mass of [t - step/2, t + step/2) at t),
so a lone delay is exact at the bin edges and sums err by a fraction of one step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from model.queueing.distributions import ServiceTime
from model.queueing.special import gammainc, gammainccinv, gammaincinv, gammaln

TAIL_MASS = 1e-6  # mass allowed in the grid's last eighth (what lies beyond wraps around)
STEPS_PER_MEDIAN = 64  # grid steps below the median: percentiles within ~0.02% (tests)
MIN_SIZE, MAX_SIZE = 2048, 2**16
_EXACT_BINS = 32  # a gamma's first bins, from its exact CDF


@dataclass(frozen=True)
class Grid:
    """size points step_ms apart; spectra are rfft-shaped (size // 2 + 1 frequencies)."""

    step_ms: float
    size: int

    @cached_property
    def phase(self) -> np.ndarray:
        """-2*pi*k/size for each frequency k: z^j = exp(1j * phase * j)."""
        return -2.0 * np.pi * np.arange(self.size // 2 + 1) / self.size

    @cached_property
    def z(self) -> np.ndarray:
        return np.exp(1j * self.phase)


class Delay:
    """A non-negative delay: mean_ms, var_ms2, and tail_ms, its slowest exponential decay scale."""

    mean_ms: float = 0.0
    var_ms2: float = 0.0
    tail_ms: float = 0.0

    @property
    def finite(self) -> bool:
        return math.isfinite(self.mean_ms)

    def spectrum(self, grid: Grid, memo: dict[int, np.ndarray]) -> np.ndarray:
        """DFT of the delay's mass function on the grid; memo shares sub-delays met twice."""
        key = id(self)
        if key not in memo:
            memo[key] = self._spectrum(grid, memo)
        return memo[key]

    def _spectrum(self, grid: Grid, memo: dict[int, np.ndarray]) -> np.ndarray:
        return np.ones(grid.size // 2 + 1, dtype=complex)


class _Zero(Delay):
    pass


class _Infinite(Delay):
    """A visit to a saturated pool: it never ends in steady state."""

    mean_ms = var_ms2 = tail_ms = math.inf


ZERO: Delay = _Zero()
INFINITE: Delay = _Infinite()


class Exponential(Delay):
    def __init__(self, mean_ms: float):
        self.mean_ms, self.var_ms2, self.tail_ms = mean_ms, mean_ms * mean_ms, mean_ms

    def _spectrum(self, grid: Grid, memo: dict[int, np.ndarray]) -> np.ndarray:
        # Bin 0 holds [0, step/2); bin k >= 1 holds a^(k - 1/2) (1 - a): a geometric series.
        a = math.exp(-grid.step_ms / self.mean_ms)
        root = math.sqrt(a)
        return (1.0 - root) + root * (1.0 - a) * grid.z / (1.0 - a * grid.z)


class Fixed(Delay):
    """A constant delay, split between its two neighbouring grid points (mean kept)."""

    def __init__(self, value_ms: float):
        self.mean_ms = value_ms

    def _spectrum(self, grid: Grid, memo: dict[int, np.ndarray]) -> np.ndarray:
        position = self.mean_ms / grid.step_ms
        j = math.floor(position)
        frac = position - j
        low = np.exp(1j * grid.phase * (j % grid.size))
        return low * ((1.0 - frac) + frac * grid.z)


class Gamma(Delay):
    """Gamma with the given mean and squared coefficient of variation (shape 1/scv)."""

    def __init__(self, mean_ms: float, scv: float):
        self.mean_ms, self.scv = mean_ms, scv
        self.var_ms2 = scv * mean_ms * mean_ms
        self.tail_ms = mean_ms * scv  # the scale: the density decays like exp(-t / scale)

    def _spectrum(self, grid: Grid, memo: dict[int, np.ndarray]) -> np.ndarray:
        # Bins from the 1e-13 to the 1 - 1e-13 quantile. The CDF (gammainc) costs ~0.1 us a
        # point, so past the first EXACT_BINS bins, where the density is smooth on the step's
        # scale, each bin's mass comes from Simpson's rule on the density, five times cheaper.
        shape, scale = 1.0 / self.scv, self.mean_ms * self.scv
        step = grid.step_ms / scale
        first = int(float(gammaincinv(shape, 1e-13)) / step + 0.5)
        last = min(grid.size, int(float(gammainccinv(shape, 1e-13)) / step) + 2)
        first = min(first, last - 1)
        exact = min(last, first + _EXACT_BINS)
        edges = (np.arange(first, exact) + 0.5) * step
        cdf = gammainc(shape, edges)
        mass = np.empty(last - first)
        mass[0] = cdf[0]
        mass[1 : exact - first] = cdf[1:] - cdf[:-1]
        if last > exact:
            half = (np.arange(2 * (exact - 1), 2 * last) + 1.0) * (step / 2)  # edges and midpoints
            log_density = (shape - 1.0) * np.log(half) - half - gammaln(shape)
            density = np.exp(log_density) * (step / 6.0)
            mass[exact - first :] = density[:-2:2] + 4.0 * density[1:-1:2] + density[2::2]
        mass[-1] += 1.0 - mass.sum()
        out = np.zeros(grid.size)
        out[first:last] = mass
        return np.fft.rfft(out)


class Sum(Delay):
    """Independent delays one after another."""

    def __init__(self, parts: list[Delay]):
        self.parts = [p for p in parts if not isinstance(p, _Zero)]
        self.mean_ms = sum(p.mean_ms for p in self.parts)
        self.var_ms2 = sum(p.var_ms2 for p in self.parts)
        self.tail_ms = max((p.tail_ms for p in self.parts), default=0.0)

    def _spectrum(self, grid: Grid, memo: dict[int, np.ndarray]) -> np.ndarray:
        out = np.ones(grid.size // 2 + 1, dtype=complex)
        for part in self.parts:
            out = out * part.spectrum(grid, memo)
        return out


class Mixture(Delay):
    """One of several delays, chosen with the given probabilities (summing to one)."""

    def __init__(self, parts: list[tuple[float, Delay]]):
        self.parts = [(w, d) for w, d in parts if w > 0]
        if any(not d.finite for _, d in self.parts):
            self.mean_ms = self.var_ms2 = self.tail_ms = math.inf
            return
        self.mean_ms = sum(w * d.mean_ms for w, d in self.parts)
        second = sum(w * (d.var_ms2 + d.mean_ms**2) for w, d in self.parts)
        self.var_ms2 = max(second - self.mean_ms**2, 0.0)
        # a part too rare to put TAIL_MASS anywhere does not stretch the grid
        self.tail_ms = max((d.tail_ms for w, d in self.parts if w > TAIL_MASS / 100), default=0.0)

    def _spectrum(self, grid: Grid, memo: dict[int, np.ndarray]) -> np.ndarray:
        out = np.zeros(grid.size // 2 + 1, dtype=complex)
        for weight, delay in self.parts:
            out = out + weight * delay.spectrum(grid, memo)
        return out


class Repeat(Delay):
    """floor(visits) independent copies, plus one more with probability frac(visits)."""

    def __init__(self, delay: Delay, visits: float):
        self.delay, self.whole = delay, math.floor(visits)
        self.frac = visits - self.whole
        if visits <= 0:
            return
        if not delay.finite:
            self.mean_ms = self.var_ms2 = self.tail_ms = math.inf
            return
        spread = self.frac * (1.0 - self.frac)
        self.mean_ms = visits * delay.mean_ms
        self.var_ms2 = visits * delay.var_ms2 + spread * delay.mean_ms**2
        self.tail_ms = delay.tail_ms

    def _spectrum(self, grid: Grid, memo: dict[int, np.ndarray]) -> np.ndarray:
        if self.whole == 0 and self.frac == 0:
            return np.ones(grid.size // 2 + 1, dtype=complex)
        one = self.delay.spectrum(grid, memo)
        out = (1.0 - self.frac) + self.frac * one
        return out * one**self.whole if self.whole else out


def service_delay(service: ServiceTime) -> Delay:
    """A ServiceTime as a delay: exponential at cv 1, fixed at cv 0, else gamma (as sampled)."""
    if service.mean_ms <= 0:
        return ZERO
    if service.cv == 0:
        return Fixed(service.mean_ms)
    if service.cv == 1:
        return Exponential(service.mean_ms)
    return Gamma(service.mean_ms, service.scv)


def queue_wait(prob_wait: float, mean_wait_ms: float) -> Delay:
    """No wait with probability 1 - prob_wait, else an exponential wait (exact for M/M/c)."""
    if prob_wait <= 0 or mean_wait_ms <= 0:
        return ZERO
    if not math.isfinite(mean_wait_ms):
        return INFINITE
    return Mixture([(1.0 - prob_wait, ZERO), (prob_wait, Exponential(mean_wait_ms / prob_wait))])


@dataclass(frozen=True)
class GridDistribution:
    """A delay's distribution: mass[k] sits at k * step_ms, standing for its whole bin."""

    step_ms: float
    mass: np.ndarray

    @cached_property
    def cumulative(self) -> np.ndarray:
        """CDF at the bin edges (k + 1/2) * step_ms."""
        return np.cumsum(self.mass)

    @property
    def span_ms(self) -> float:
        return self.step_ms * len(self.mass)

    def quantile(self, q: float) -> float:
        if self.step_ms == 0:
            return 0.0
        cum = self.cumulative
        k = min(int(np.searchsorted(cum, q)), len(cum) - 1)
        below = cum[k - 1] if k else 0.0
        low_ms = max(k - 0.5, 0.0) * self.step_ms
        high_ms = (k + 0.5) * self.step_ms
        share = (q - below) / self.mass[k] if self.mass[k] > 0 else 1.0
        return float(low_ms + min(max(share, 0.0), 1.0) * (high_ms - low_ms))

    def cdf(self, t_ms: float) -> float:
        if t_ms >= self.span_ms:
            return 1.0
        edges = (np.arange(len(self.mass)) + 0.5) * self.step_ms
        return float(
            np.interp(t_ms, np.concatenate(([0.0], edges)), np.concatenate(([0.0], self.cumulative)))
        )

    def mean_below(self, t_ms: float) -> float:
        """Mean of the delay given that it is at most t_ms (completed before a timeout)."""
        if self.step_ms == 0:
            return 0.0
        k = min(int(t_ms / self.step_ms) + 1, len(self.mass))
        kept = self.mass[:k]
        return float(np.dot(kept, np.arange(k)) * self.step_ms / max(kept.sum(), 1e-300))


def distribution_of(delay: Delay) -> GridDistribution:
    """The delay's distribution on a grid chosen from its moments, refined until it fits.

    The span covers 1.5 mean + 4 sd + 14 slowest tail scales (tail mass ~1e-7), doubled while
    more than TAIL_MASS lies in the last eighth; the step keeps STEPS_PER_MEDIAN bins below
    the median. Both checks are a posteriori, so odd shapes (bimodal hit/miss) refine too.
    """
    if not delay.finite:
        raise ValueError("an infinite delay has no distribution")
    span_ms = 1.5 * delay.mean_ms + 4.0 * math.sqrt(delay.var_ms2) + 14.0 * delay.tail_ms
    if span_ms <= 0:
        return GridDistribution(0.0, np.array([1.0]))  # no delay at all
    size = _size_for(span_ms, delay.mean_ms / 2 if delay.mean_ms > 0 else span_ms / MIN_SIZE)
    dist = None
    for _ in range(6):
        grid = Grid(span_ms / size, size)
        memo: dict[int, np.ndarray] = {}
        for part in _deepest_first(delay):  # each spectrum then finds its parts' ready: no deep recursion
            part.spectrum(grid, memo)
        mass = np.clip(np.fft.irfft(delay.spectrum(grid, memo), size), 0.0, None)
        dist = GridDistribution(grid.step_ms, mass)
        if mass[size - size // 8 :].sum() > TAIL_MASS:
            span_ms *= 2.0
            size = min(size * 2, MAX_SIZE)
            continue
        median_ms = dist.quantile(0.5)
        wanted = _size_for(span_ms, median_ms)
        if median_ms > 0 and wanted > size:
            size = wanted
            continue
        break
    return dist


def _parts(delay: Delay) -> list[Delay]:
    if isinstance(delay, Sum):
        return delay.parts
    if isinstance(delay, Mixture):
        return [d for _, d in delay.parts]
    if isinstance(delay, Repeat):
        return [delay.delay]
    return []


def _deepest_first(delay: Delay) -> list[Delay]:
    """Every sub-delay, each after its own parts (an iterative walk: a chain of N calls nests N deep)."""
    order: list[Delay] = []
    seen = {id(delay)}
    stack = [(delay, iter(_parts(delay)))]
    while stack:
        here, todo = stack[-1]
        nxt = next((d for d in todo if id(d) not in seen), None)
        if nxt is None:
            order.append(here)
            stack.pop()
        else:
            seen.add(id(nxt))
            stack.append((nxt, iter(_parts(nxt))))
    return order


def _size_for(span_ms: float, median_ms: float) -> int:
    """A power of two giving STEPS_PER_MEDIAN steps below median_ms, within the size limits."""
    if median_ms <= 0:
        return MIN_SIZE
    wanted = span_ms * STEPS_PER_MEDIAN / median_ms
    return int(min(max(MIN_SIZE, 2 ** math.ceil(math.log2(max(wanted, 1.0)))), MAX_SIZE))
