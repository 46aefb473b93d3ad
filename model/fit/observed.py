"""Observed series for the Observe page: mapping discovered metrics to nodes, the fit file, peaks, incidents.

Plain functions (no Streamlit): the page reads widgets, calls these, and draws what they return.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import yaml

from model.fit.file import METRIC_KEYS

# scenario keys copied into the fit file: what the fit cannot estimate from metrics
STRUCTURE = (
    "replicas",
    "cpus",
    "instance",
    "calls",
    "nodes",
    "miss",
    "read_replicas",
    "brokers",
    "partitions",
    "consumers",
    "concurrency",
    "autoscale",
)


def slots(scenario) -> list[tuple[str, str]]:
    """Every (node, metric key) a fit file can fill for the scenario's graph, plus the entry's traffic and latency."""
    out = [("", "traffic"), ("", "latency")]
    for name, node in scenario.nodes.items():
        out += [(name, key) for key in METRIC_KEYS[node.kind]]
    return out


def default_choice(node: str, key: str, discovered: list) -> int | None:
    """The index of the discovered metric that most likely fills (node, key), or None."""
    for k, info in enumerate(discovered):
        column = str(getattr(info.metric, "column", ""))  # a CSV column names its node: web_cpu
        if info.suggested_key == key and (
            not node or info.resource == node or node in info.resource or node in column
        ):
            return k
    if not node:
        for k, info in enumerate(discovered):
            if key in (info.suggested_key, info.label) or info.label.endswith(key) or key in info.label:
                return k
    return None


def fit_file(
    scenario,
    source: str,
    mapping: dict[tuple[str, str], Any],
    *,
    lookback_days: int = 14,
    period_s: int = 300,
    region: str | None = None,
    project: str | None = None,
    demo_scenario: str | None = None,
    traffic_kind: str | None = None,
    url: str | None = None,
) -> dict:
    """The contract's fit file (section 3) for this graph and mapping of (node, key) -> metric spec.

    `scenario` is the one in effect, what-if changes included: the replicas, cores and
    instances it gives are what the fit divides the observed CPU by (6 replicas set on
    What-if are 6 in the fit file). `traffic_kind` (count or rate) is the traffic's `kind`."""
    data: dict[str, Any] = {"version": 1, "source": source}
    if source == "cloudwatch" and region:
        data["region"] = region
    if source == "gcp" and project:
        data["project"] = project
    if source == "prometheus" and url:
        data["url"] = url  # the server's own (PROMETHEUS_URL): the file reruns against the same Prometheus
    if source == "demo":
        data["demo"] = {"scenario": demo_scenario or "checkout.yaml", "seed": 7}  # relative to the fit file
    data["lookback_days"] = lookback_days
    data["period_s"] = period_s
    traffic = mapping.get(("", "traffic"))
    if traffic is not None:
        data["traffic"] = {"metric": _spec(traffic)}
        if source == "demo":
            data["traffic"]["kind"] = "count"
        elif traffic_kind in ("count", "rate"):
            data["traffic"]["kind"] = traffic_kind
    if mapping.get(("", "latency")) is not None:
        data["latency"] = {"metric": _spec(mapping[("", "latency")])}
    data["entry"] = scenario.entry
    nodes: dict[str, Any] = {}
    dumped = scenario.model_dump(exclude_none=True)
    for name, node in scenario.nodes.items():
        entry: dict[str, Any] = {"kind": node.kind}
        for key in STRUCTURE:
            if key in dumped["nodes"][name] and key in _fit_keys(node.kind):
                entry[key] = dumped["nodes"][name][key]
        for key in METRIC_KEYS[node.kind]:
            if mapping.get((name, key)) is not None:
                entry[key] = _spec(mapping[(name, key)])
        nodes[name] = entry
    data["nodes"] = nodes
    return data


def with_structure(fit_yaml: str, scenario) -> str:
    """The fit file with the scenario's structure (replicas, cores, instances...) in place of its own.

    A fit file built before a what-if change (or the demo's own file) still says 4 replicas
    when What-if says 6; the fit would then divide the observed CPU by the wrong count and
    every fitted service time would be off by the same factor, silently. A replica count that
    is a metric (the running count over time) is kept: it is observed, not set.
    """
    data = yaml.safe_load(fit_yaml)
    dumped = scenario.model_dump(exclude_none=True)["nodes"]
    for name, entry in (data.get("nodes") or {}).items():
        node = scenario.nodes.get(name)
        if node is None or node.kind != entry.get("kind"):
            continue
        for key in STRUCTURE:
            if key not in dumped[name] or key not in _fit_keys(node.kind):
                continue
            if key == "replicas" and isinstance(entry.get(key), dict):
                continue  # a metric: the count is observed
            entry[key] = dumped[name][key]
    return to_yaml(data)


def _fit_keys(kind: str) -> set[str]:
    from model.scenario.schema import CacheNode, DatabaseNode, KafkaNode, ServiceNode

    return set(
        {"service": ServiceNode, "cache": CacheNode, "database": DatabaseNode, "kafka": KafkaNode}[
            kind
        ].model_fields
    )


def _spec(metric: Any) -> dict:
    return (
        metric.model_dump(exclude_none=True, exclude_defaults=False)
        if hasattr(metric, "model_dump")
        else dict(metric)
    )


def _tidy(value: Any) -> Any:
    """Whole floats as ints (`cpus: 2`, not `cpus: 2.0`), recursively."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value


def to_yaml(data: dict) -> str:
    return yaml.safe_dump(_tidy(data), sort_keys=False, default_flow_style=None, width=120)


# ---------------------------------------------------------------- reading the series


def preview(fit_yaml: str, frame: pd.DataFrame, source: str, folder: str = ""):
    """The mapped series as the fit will read them (model.fit.series.Observations): rates per
    second, CPU as a fraction, latency in ms, on one grid. Raises FitError for what the fit
    would refuse, so a wrong mapping or kind shows here, before any fitting."""
    from pathlib import Path

    from model.fit.file import fit_file_from_text
    from model.fit.series import observations

    fit = fit_file_from_text(fit_yaml, "fit.yaml")
    fit._base_dir = Path(folder) if folder else Path.cwd()
    return observations(fit, frame, source)


def as_frame(series: pd.Series, label: str, scale: float = 1.0) -> pd.DataFrame:
    """A grid series (NaN where no data) as the timestamp, value, label frame the charts draw."""
    present = series.dropna()
    return pd.DataFrame({"timestamp": present.index, "value": present.to_numpy() * scale, "label": label})


def rate_frame(frame: pd.DataFrame, series: str, period_s: int) -> pd.DataFrame:
    """One series as timestamp, value; counts per period become a rate per second."""
    part = frame[frame["series"] == series][["timestamp", "value", "unit"]].copy()
    if len(part) and str(part["unit"].iloc[0]).lower() == "count":
        part["value"] = part["value"] / period_s
    return part[["timestamp", "value"]]


def peak(frame: pd.DataFrame) -> pd.Timestamp | None:
    """When the series was highest (the busiest bucket)."""
    if not len(frame):
        return None
    return frame.loc[frame["value"].idxmax(), "timestamp"]


def incidents(
    frame: pd.DataFrame,
    factor: float = 1.4,
    min_points: int = 3,
    merge_gap: pd.Timedelta = pd.Timedelta(hours=1),
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Spans where a series runs well above what is usual for that time of day (latency spikes, CPU storms).

    The baseline is the median at the same time of day over the window, so the daily peak
    itself is not an incident, but a slow evening is.
    """
    if len(frame) < 12:
        return []
    series = frame.set_index("timestamp")["value"].sort_index()
    time_of_day = series.index.hour * 60 + series.index.minute
    baseline = series.groupby(time_of_day).transform("median")
    if series.index.normalize().nunique() < 3:  # too few days for a daily baseline: a rolling median instead
        baseline = series.rolling("1D", min_periods=6).median().bfill()
    high = series > factor * baseline
    spans, start, count = [], None, 0
    stamps = list(series.index)
    for k, (stamp, flag) in enumerate(zip(stamps, high)):
        if flag and start is None:
            start, count = stamp, 0
        if flag:
            count += 1
        if start is not None and (not flag or k == len(stamps) - 1):
            end = stamp if not flag else stamp
            if count >= min_points:
                spans.append((start, end))
            start = None
    merged: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for a, b in spans:  # one incident that dips below the line for a bucket or two is still one incident
        if merged and a - merged[-1][1] <= merge_gap:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def summary(frame: pd.DataFrame, period_s: int) -> pd.DataFrame:
    """Per series: points, mean, 95th percentile, peak and its time, unit."""
    rows = []
    for series, part in frame.groupby("series", sort=False):
        values = rate_frame(frame, series, period_s)["value"]
        unit = str(part["unit"].iloc[0])
        unit = "req/s" if unit.lower() == "count" else unit
        rows.append(
            {
                "series": series,
                "points": len(part),
                "mean": values.mean(),
                "p95": values.quantile(0.95),
                "peak": values.max(),
                "peak at": part["timestamp"].iloc[int(values.to_numpy().argmax())],
                "unit": unit,
            }
        )
    return pd.DataFrame(rows)
