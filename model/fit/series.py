"""Observed series on one time grid, in the units the fit works in, or one clear refusal.

A connector returns a tidy frame (timestamp, series, value, unit) at the stamps the source
reported. The fit needs every series on the same grid of periods (so CPU and traffic of the
same five minutes meet), counts turned into rates, CPU into a fraction of the node's cores
and latency into milliseconds. Input that would give a plausible but wrong fit (CPU above
100 %, traffic that is all zero, series that never overlap, a single point) is refused here,
before any regression runs, with the series, the value and the stamp that are wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from model.fit.errors import FitError
from model.fit.file import FitFile
from model.fit.phases import detect_phases, given_phases, in_phases, is_load_test
from model.fit.units import (
    cpu_fraction,
    is_rate_unit,
    latency_stat,
    ms_factor,
    per_second,
    replica_count,
    spacing_s,
)

MIN_POINTS = 12  # periods a regression needs: an hour at 300 s
_RATE_NAME = re.compile(r"(rps|/s\b|per_?s(ec(ond)?)?\b|_rate\b|^rate$|throughput)")
_COUNT_KEYS = ("requests", "hits", "misses", "reads", "writes", "messages_in")


@dataclass
class Observations:
    """Every series of a fit file on one grid of `period_s` periods (NaN where a period has no data).

    `rates` hold requests (or hits, reads, ...) per second; `cpu` the busy fraction 0..1;
    `replicas` a service's running replica count (a period's mean: fractional while it scales);
    `latency_ms` the end-to-end latency in ms, of the statistic `latency_stat` (p99, mean...).
    """

    period_s: int
    traffic_rps: pd.Series
    cpu: dict[str, pd.Series] = field(default_factory=dict)  # node -> fraction busy
    rates: dict[str, pd.Series] = field(default_factory=dict)  # "nodes.db.reads" -> per second
    latency_ms: pd.Series | None = None
    latency_stat: str = "p99"
    warnings: list[str] = field(default_factory=list)
    replicas: dict[str, pd.Series] = field(default_factory=dict)  # node -> running replicas
    # Load tests (issue 11): steady phases instead of days; more latency statistics; worker
    # counts per period; a shared host's CPU (fraction of its cores).
    load_test: bool = False
    phases: list = field(default_factory=list)  # model.fit.phases.PhaseSpan, time order
    latency_stats: dict[str, pd.Series] = field(default_factory=dict)  # "p50" -> ms, every statistic observed
    workers: dict[str, pd.Series] = field(default_factory=dict)  # node -> worker count
    host_cpu: dict[str, pd.Series] = field(default_factory=dict)  # host -> fraction busy

    @property
    def index(self) -> pd.DatetimeIndex:
        return self.traffic_rps.index  # type: ignore[return-value]

    @property
    def start(self) -> datetime:
        return self.index[0].to_pydatetime()

    @property
    def end(self) -> datetime:
        return (self.index[-1] + pd.Timedelta(seconds=self.period_s)).to_pydatetime()

    def between(
        self, start: datetime | pd.Timestamp | None, end: datetime | pd.Timestamp | None
    ) -> "Observations":
        """The same series cut to [start, end): the backtest fits on one part and checks on the other."""

        def cut(series: pd.Series) -> pd.Series:
            keep = np.ones(len(series), dtype=bool)
            if start is not None:
                keep &= series.index >= start
            if end is not None:
                keep &= series.index < end
            return series[keep]

        phases = [
            p for p in self.phases if (start is None or p.start >= start) and (end is None or p.end <= end)
        ]
        return Observations(
            self.period_s,
            cut(self.traffic_rps),
            {k: cut(v) for k, v in self.cpu.items()},
            {k: cut(v) for k, v in self.rates.items()},
            cut(self.latency_ms) if self.latency_ms is not None else None,
            self.latency_stat,
            [],
            {k: cut(v) for k, v in self.replicas.items()},
            self.load_test,
            phases,
            {k: cut(v) for k, v in self.latency_stats.items()},
            {k: cut(v) for k, v in self.workers.items()},
            {k: cut(v) for k, v in self.host_cpu.items()},
        )

    def only(self, keep: np.ndarray) -> "Observations":
        """The same observations with the periods outside `keep` (a mask on the index) left out."""

        def cut(series: pd.Series) -> pd.Series:
            return series.reindex(self.index)[keep]

        return Observations(
            self.period_s,
            self.traffic_rps[keep],
            {k: cut(v) for k, v in self.cpu.items()},
            {k: cut(v) for k, v in self.rates.items()},
            cut(self.latency_ms) if self.latency_ms is not None else None,
            self.latency_stat,
            self.warnings,
            {k: cut(v) for k, v in self.replicas.items()},
            self.load_test,
            self.phases,
            {k: cut(v) for k, v in self.latency_stats.items()},
            {k: cut(v) for k, v in self.workers.items()},
            {k: cut(v) for k, v in self.host_cpu.items()},
        )

    def paired(self, *series: pd.Series) -> pd.DataFrame:
        """Traffic and the given series over the periods where all of them have data."""
        frame = pd.concat(
            [self.traffic_rps.rename("traffic"), *[s.rename(f"s{i}") for i, s in enumerate(series)]], axis=1
        )
        return frame.dropna()


# ---------------------------------------------------------------- building


def observations(fit: FitFile, frame: pd.DataFrame, source: str) -> Observations:
    """Check and convert the fetched frame (see the module docstring); raise FitError when unusable."""
    if frame is None or not len(frame):
        raise FitError("the source returned no data at all; check the fit file's metrics and lookback_days")
    warnings: list[str] = []
    period_s = fit.period_s
    wanted = fit.series()
    grids: dict[str, pd.Series] = {}
    for series_id in wanted:
        rows = frame[frame["series"] == series_id]
        if not len(rows):
            raise FitError(
                f"{series_id}: no data in the window; check its metric against what discovery lists"
            )
        grids[series_id] = _on_grid(series_id, rows, period_s, _is_count(series_id), warnings)

    start = min(s.index.min() for s in grids.values())
    end = max(s.index.max() for s in grids.values())
    index = pd.date_range(start, end, freq=f"{period_s}s")
    grids = {k: v.reindex(index) for k, v in grids.items()}

    traffic = _traffic_rps(fit, grids["traffic"], frame, period_s, warnings, source)
    obs = Observations(period_s, traffic, warnings=warnings)
    for series_id, values in grids.items():
        if series_id.startswith("hosts."):
            _, host, _ = series_id.split(".", 2)
            cores = fit.hosts[host].cpus  # type: ignore[index]
            obs.host_cpu[host] = cpu_fraction(
                series_id, values, _unit(frame, series_id), source, warnings, cores
            )
            _require_overlap(traffic, obs.host_cpu[host], series_id, period_s)
            continue
        if not series_id.startswith("nodes."):
            continue
        _, node, key = series_id.split(".", 2)
        unit = _unit(frame, series_id)
        if key == "cpu":
            obs.cpu[node] = cpu_fraction(
                series_id,
                values,
                unit,
                source,
                warnings,
                _node_cores(fit, node, grids.get(f"nodes.{node}.replicas")),
            )
            _require_overlap(traffic, obs.cpu[node], series_id, period_s)
        elif key == "replicas":
            obs.replicas[node] = replica_count(series_id, values)
            _require_overlap(traffic, obs.replicas[node], series_id, period_s)
        elif key == "workers":
            obs.workers[node] = values.round()
        elif key in _COUNT_KEYS:
            obs.rates[series_id] = per_second(series_id, values, unit, period_s)
        elif key == "latency":
            obs.rates[series_id] = values * ms_factor(unit, series_id, warnings, values, source)
    if "latency" in grids:
        unit = _unit(frame, "latency")
        obs.latency_ms = grids["latency"] * ms_factor(unit, "latency", warnings, grids["latency"], source)
        obs.latency_stat = latency_stat(wanted["latency"])
        obs.latency_stats[obs.latency_stat] = obs.latency_ms
        for series_id in grids:
            if series_id.startswith("latency."):
                stat = series_id.split(".", 1)[1]
                obs.latency_stats[stat] = grids[series_id] * ms_factor(
                    _unit(frame, series_id), series_id, warnings, grids[series_id], source
                )
    return _load_test_view(fit, obs)


def _load_test_view(fit: FitFile, obs: Observations) -> Observations:
    """A load test keeps only its steady phases (given, else detected); a history is kept whole."""
    span_s = (obs.end - obs.start).total_seconds()
    if not is_load_test(fit.mode, bool(fit.phases), obs.period_s, span_s):
        return obs
    obs.load_test = True
    phases = (
        given_phases(fit.phases, obs.traffic_rps)
        if fit.phases
        else detect_phases(obs.traffic_rps, obs.period_s)
    )
    usable = [p for p in phases if p.periods > 0]
    for p in phases:
        if p.periods == 0:
            obs.warnings.append(
                f"phases: {p.name} ({p.start:%Y-%m-%d %H:%M:%S} to {p.end:%H:%M:%S} UTC) holds no traffic "
                "data; left out (check its times against the data, in UTC)"
            )
    if not usable:
        obs.warnings.append(
            "load test: no steady phase found; every period is used (list them under phases: to choose)"
        )
        return obs
    obs.phases = usable
    keep = in_phases(obs.index, usable)
    if int(keep.sum()) < MIN_POINTS:
        raise FitError(
            f"the phases hold {int(keep.sum())} period(s) of {obs.period_s} s with traffic; the fit needs at least "
            f"{MIN_POINTS} (lower period_s, e.g. period_s: 5, or lengthen the phases)"
        )
    view = obs.only(keep)
    if any(p.workers for p in usable):
        workers = pd.Series(np.nan, index=view.index)
        for p in usable:
            if p.workers:
                workers[(view.index >= p.start) & (view.index < p.end)] = p.workers
        view.workers.setdefault(fit.entry, workers)
    return view


def _node_cores(fit: FitFile, node: str, replicas: pd.Series | None = None) -> pd.Series | float | None:
    """Cores a node's `unit: cores` CPU is a share of (Prometheus' container and process CPU, a CSV of
    busy cores): its instances, the replica series when there is one (else the count given; a cache's
    nodes; a database's primary and read replicas), times each one's cpus (given, else the instance's
    vCPUs). None when neither cpus nor a known instance says how many cores there are."""
    from model.queueing.topology import default_cpus

    n = fit.nodes[node]
    if n.cpus is not None:
        cpus = float(n.cpus)
    elif n.instance is not None:
        cpus = default_cpus(n.instance)
    else:
        return None
    if replicas is not None:
        return replicas * cpus
    if n.kind == "cache":
        count = n.nodes or 1
    elif n.kind == "database":
        count = 1 + (n.read_replicas or 0)
    else:
        count = n.replicas if isinstance(n.replicas, int) else 1
    return cpus * count


def _on_grid(
    series_id: str, rows: pd.DataFrame, period_s: int, is_count: bool, warnings: list[str]
) -> pd.Series:
    """Each point in the period it falls in; several points in one period summed (counts) or averaged."""
    stamps = pd.to_datetime(rows["timestamp"], utc=True)
    values = rows["value"].astype(float).to_numpy()
    if not np.isfinite(values).all():
        raise FitError(f"{series_id}: holds values that are not finite numbers (inf or NaN)")
    buckets = stamps.dt.floor(f"{period_s}s")
    off = int((buckets != stamps).sum())
    if off:
        offset = (stamps - buckets).dt.total_seconds()
        warnings.append(
            f"{series_id}: {off} of {len(stamps)} stamps are not on the {period_s} s grid "
            f"(typically {offset.median():.0f} s past it); each was counted in the period it falls in"
        )
    series = pd.Series(values, index=pd.DatetimeIndex(buckets))
    grouped = series.groupby(level=0)
    return grouped.sum() if is_count else grouped.mean()


def _is_count(series_id: str) -> bool:
    return series_id == "traffic" or series_id.rsplit(".", 1)[-1] in _COUNT_KEYS


def _unit(frame: pd.DataFrame, series_id: str) -> str:
    units = frame.loc[frame["series"] == series_id, "unit"].dropna().astype(str)
    return units.iloc[0] if len(units) else ""


def _traffic_rps(
    fit: FitFile, values: pd.Series, frame: pd.DataFrame, period_s: int, warnings: list[str], source: str = ""
) -> pd.Series:
    present = values.dropna()
    if len(present) < MIN_POINTS:
        raise FitError(
            f"traffic has {len(present)} point(s); the fit needs at least {MIN_POINTS} periods "
            f"of {period_s} s (raise lookback_days or lower period_s)"
        )
    if (present < 0).any():
        raise FitError(
            f"traffic holds negative values (first at {present[present < 0].index[0]:%Y-%m-%d %H:%M} UTC)"
        )
    if not (present > 0).any():
        raise FitError(
            f"traffic is zero in all {len(present)} periods; with no requests there is nothing to relate "
            "CPU to (check the metric's name, dimensions and stat, e.g. RequestCount with stat Sum)"
        )
    kind = fit.traffic.kind
    unit = _unit(frame, "traffic")
    stat = getattr(fit.traffic.metric, "stat", None)
    if kind is None:
        column = str(getattr(fit.traffic.metric, "column", "")).lower()
        named_rate = bool(_RATE_NAME.search(column))
        kind = (
            "rate"
            if is_rate_unit(unit) or stat in ("Average", "Maximum", "Minimum") or named_rate
            else "count"
        )
        if source == "csv" and kind == "count" and period_s != 1:
            warnings.append(
                f"traffic: read as a count of requests per period (kind: count, {period_s} s); if the column "
                "holds requests per second (rps, like Locust's Requests/s), set traffic.kind: rate"
            )
    if kind == "rate":
        return values
    spacing = spacing_s(values, period_s)
    if spacing != period_s:
        warnings.append(
            f"traffic: points are {spacing} s apart, not {period_s} s; counts were divided by {spacing} s"
        )
    return values / spacing


def _require_overlap(traffic: pd.Series, cpu: pd.Series, series_id: str, period_s: int) -> None:
    both = pd.concat([traffic, cpu], axis=1).dropna()
    if len(both) >= MIN_POINTS:
        return

    def span(s: pd.Series) -> str:
        s = s.dropna()
        return (
            f"{s.index.min():%Y-%m-%d %H:%M} to {s.index.max():%Y-%m-%d %H:%M} UTC" if len(s) else "nothing"
        )

    raise FitError(
        f"{series_id} and traffic share {len(both)} period(s) of {period_s} s (traffic covers {span(traffic)}, "
        f"{series_id} covers {span(cpu)}); the fit needs at least {MIN_POINTS}: are the timestamps "
        "misaligned (time zone, clock offset) or the two series from different windows?"
    )
