"""What a load test leaves behind, read as series: Locust's `--csv` history and k6's `--out json`.

Both are read into the CSV source's shape (a `timestamp` column and one column per series),
with the unit each column is in, so the fit treats them like any CSV column:

- Locust `--csv PREFIX` writes `PREFIX_stats_history.csv`, one row per request name every few
  seconds plus an `Aggregated` row: Timestamp (epoch seconds), User Count, Requests/s,
  Failures/s, the current response-time percentiles (50%..100%, in ms) and running totals.
  A percentile is "N/A" while no request finished; that is a gap, not an error.
- k6 `--out json=points.json` writes one JSON object per line; `{"type": "Point", "metric":
  "http_reqs", "data": {"time": ..., "value": 1}}` per request. Points are reduced per period
  here (a count of requests, or a statistic of `http_req_duration` in ms), since a period of
  raw points is what every other source hands over.
- k6's `--summary-export` file is one summary for the whole run, with no timestamps: it is
  refused with a message saying which output to use instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from connectors.errors import ConnectorError

LOCUST_TIMESTAMP = "Timestamp"
_LOCUST_RATE = ("Requests/s", "Failures/s")


def locust_unit(column: str) -> str:
    """The unit of a Locust stats-history column: rates per second, response times in ms."""
    if column in _LOCUST_RATE:
        return "Count/Second"
    if column.endswith("%") or "Response Time" in column:
        return "ms"
    return ""


def read_locust(path: Path, columns: list[str], name: str | None) -> pd.DataFrame:
    """The rows of one request name (default `Aggregated`), as `timestamp` plus the columns (text, like a CSV)."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ConnectorError(
            f"{path}: no such file.", "Paths in a fit file are relative to the fit file.", source="csv"
        ) from None
    except Exception as exc:
        raise ConnectorError(
            f"{path.name}: cannot be read as Locust's stats history ({exc.__class__.__name__}).",
            "Give the *_stats_history.csv file Locust writes with --csv PREFIX.",
            source="csv",
        ) from None
    if LOCUST_TIMESTAMP not in raw.columns or "Name" not in raw.columns:
        raise ConnectorError(
            f"{path.name}: not a Locust stats history (no Timestamp and Name columns; it has "
            f"{', '.join(list(raw.columns)[:8])}).",
            "Give the *_stats_history.csv file Locust writes with --csv PREFIX "
            "(not *_stats.csv, which holds only the totals).",
            source="csv",
        )
    wanted = name or "Aggregated"
    rows = raw[raw["Name"] == wanted]
    if not len(rows):
        names = ", ".join(sorted(set(raw["Name"]))[:10])
        raise ConnectorError(
            f"{path.name}: no rows named {wanted!r} (it has {names}).",
            "Set name: to one of them, or leave it out for the Aggregated rows.",
            source="csv",
        )
    for column in columns:
        if column not in rows.columns:
            raise ConnectorError(
                f"{path.name}: no column {column!r} (Locust writes {', '.join(list(raw.columns)[:20])}).",
                "Name a column from the file's header line, e.g. Requests/s or 99%.",
                source="csv",
            )
    out = rows[[LOCUST_TIMESTAMP, *columns]].rename(columns={LOCUST_TIMESTAMP: "timestamp"})
    return out.reset_index(drop=True)


def read_k6(path: Path, metrics: list[tuple[str, str]], period_s: int) -> tuple[pd.DataFrame, dict[str, str]]:
    """k6 points reduced per period: one column per (metric, stat), named `metric:stat`, and their units."""
    points: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m, _ in metrics}
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
            _refuse_summary(path, first, handle)
            for number, line in enumerate([first, *handle], start=1):
                line = line.strip()
                if not line:
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError:
                    raise ConnectorError(
                        f"{path.name}: line {number} is not JSON.",
                        "Give the file k6 writes with --out json=FILE (one JSON object per line).",
                        source="csv",
                    ) from None
                if item.get("type") != "Point" or item.get("metric") not in points:
                    continue
                data = item.get("data") or {}
                stamp = pd.Timestamp(data.get("time"))
                stamps, values = points[item["metric"]]
                stamps.append(stamp.timestamp())
                values.append(float(data.get("value", np.nan)))
    except FileNotFoundError:
        raise ConnectorError(
            f"{path}: no such file.", "Paths in a fit file are relative to the fit file.", source="csv"
        ) from None
    columns: dict[str, pd.Series] = {}
    units: dict[str, str] = {}
    for metric, stat in metrics:
        stamps, values = points[metric]
        if not stamps:
            raise ConnectorError(
                f"{path.name}: no points of metric {metric!r}.",
                "k6 names them http_reqs, http_req_duration, http_req_failed, iterations, vus ...",
                source="csv",
            )
        series = pd.Series(
            values, index=pd.to_datetime(np.floor(np.array(stamps) / period_s) * period_s, unit="s", utc=True)
        )
        grouped = series.groupby(level=0)
        reduced = _reduce(grouped, stat)
        columns[f"{metric}:{stat}"] = reduced
        units[f"{metric}:{stat}"] = (
            "" if stat == "count" else ("ms" if "duration" in metric or metric.endswith("_time") else "")
        )
    frame = pd.DataFrame(columns).rename_axis("timestamp").reset_index()
    return frame, units


def _reduce(grouped, stat: str) -> pd.Series:
    if stat == "count":
        return grouped.sum()
    if stat in ("mean", "max", "min"):
        return getattr(grouped, stat)()
    q = float(stat[1:]) / 100
    return grouped.quantile(q)


def _refuse_summary(path: Path, first: str, handle) -> None:
    """The --summary-export file is one JSON document with `metrics` and no time: say what to use."""
    try:
        document = json.loads(first)
    except json.JSONDecodeError:
        try:
            document = json.loads(first + handle.read())
        except json.JSONDecodeError:
            raise ConnectorError(
                f"{path.name}: line 1 is not a k6 point.",
                "Give the file k6 writes with --out json=FILE (one JSON object per line).",
                source="csv",
            ) from None
    if isinstance(document, dict) and "metrics" in document and "type" not in document:
        raise ConnectorError(
            f"{path.name}: this is k6's end-of-test summary (--summary-export or handleSummary): one set of "
            "numbers for the whole run, with no timestamps, so it cannot show how CPU follows load.",
            "Run k6 with --out json=points.json and give that file (format: k6).",
            source="csv",
        )
