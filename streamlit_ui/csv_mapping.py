"""The engineer's own CSV files on Observe: keep every upload, and say what each mapped column counts.

A CSV has no units, so a column of ELB request counts per five minutes and a column of
requests per second look alike; read the wrong way, a peak of 381 req/s is really 1.3. Each
mapped column therefore gets a kind (count per period, rate per second, percent, fraction,
milliseconds, seconds), detected from its name and values and shown so the user can correct
it. The kind is written into the fit file as the column's `unit` (and the traffic's `kind`),
which is how `python cli.py fit` reads it too. Plain functions, no Streamlit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

# kind -> (label shown, the `unit` written on the CsvMetric, which model.fit.series understands)
KINDS = {
    "count": ("count per period", "count"),
    "rate": ("rate per second", "count/second"),
    "percent": ("percent (0..100)", "percent"),
    "fraction": ("fraction (0..1)", "fraction"),
    "ms": ("milliseconds", "ms"),
    "s": ("seconds", "s"),
}
COUNTED = ("traffic", "requests", "hits", "misses", "reads", "writes", "messages_in")
SAMPLE_ROWS = 5000  # enough rows to tell counts from rates and percent from fractions


def kinds_for(key: str) -> list[str]:
    """The kinds that make sense for a metric key (none for a replica count, which has no unit)."""
    if key in COUNTED:
        return ["count", "rate"]
    if key == "cpu":
        return ["percent", "fraction"]
    if key == "latency":
        return ["ms", "s"]
    return []


def detect_kind(key: str, column: str, values: pd.Series) -> str | None:
    """The likely kind of a column for a key, from its name first and its values second."""
    options = kinds_for(key)
    if not options:
        return None
    name = column.lower().replace("-", "_").replace(" ", "_")
    present = pd.to_numeric(values, errors="coerce").dropna()
    if key == "cpu":
        if any(w in name for w in ("pct", "percent", "%")):
            return "percent"
        return "fraction" if len(present) and present.max() <= 1.0 else "percent"
    if key == "latency":
        if name.endswith(("_ms", "millis", "milliseconds")) or "_ms_" in name:
            return "ms"
        if name.endswith(("_s", "_sec", "_secs", "seconds")) or "_seconds" in name:
            return "s"
        return "s" if len(present) and present.max() < 2.0 else "ms"
    if any(w in name for w in ("rps", "per_s", "per_sec", "_rate", "/s", "persec", "qps")):
        return "rate"
    if any(w in name for w in ("count", "total", "sum")):
        return "count"
    whole = len(present) and bool((present == present.round()).all())
    return "count" if whole else "rate"


def column_sample(folder: str, file: str, column: str) -> pd.Series:
    """The first rows of one column (what detection looks at); empty when the file cannot be read."""
    try:
        return pd.read_csv(Path(folder) / file, usecols=[column], nrows=SAMPLE_ROWS)[column]
    except Exception:  # a bad file is reported by the connector when it is fetched, with its line
        return pd.Series([], dtype="float64")


def with_kind(metric: Any, kind: str | None) -> Any:
    """The CsvMetric with the kind's unit written on it (other sources' metrics are returned as they are)."""
    if kind is None or not hasattr(metric, "column"):
        return metric
    return metric.model_copy(update={"unit": KINDS[kind][1]})


def save_uploads(folder: str | Path, uploads: list[tuple[str, bytes]]) -> tuple[tuple[str, str], ...]:
    """Write every uploaded file into the session's folder and drop the ones no longer uploaded.

    Returns (file name, content digest) pairs: the key under which discovery and fetching are
    cached, so a second file, or a file uploaded again with new rows, is always read afresh.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    listing = []
    for name, data in uploads:
        name = Path(name).name
        path = folder / name
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        listing.append((name, hashlib.sha256(data).hexdigest()[:16]))
    kept = {name for name, _ in listing}
    for path in folder.glob("*.csv"):
        if path.name not in kept:
            path.unlink()
    return tuple(sorted(listing))
