"""CSV and Parquet files: a timestamp column and one column per series.

Points come back at their own stamps (no resampling) inside the window, which ends at the
newest stamp in the files read, not at "now": exported metrics are usually old. Files are
read in chunks and only the columns asked for, so a large file costs memory in proportion
to what is kept. What cannot be read is refused with the file, line and reason.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from connectors.base import MetricInfo, Query, concat, require_data, tidy
from connectors.errors import ConnectorError
from connectors.loadtest_files import locust_unit, read_k6, read_locust
from connectors.window import Window, align
from connectors.specs import CsvMetric

CHUNK_ROWS = 500_000
MAX_POINTS = 20_000_000  # kept points over all series; beyond this a fit would not fit in memory
MAX_JUNK_FRACTION = 0.01  # rows whose stamp cannot be read, dropped with a warning below this
_NA = {"", "na", "n/a", "nan", "null", "none", "-"}
_OFFSET = re.compile(r"(?:Z|[+-]\d\d:?\d\d)$")


class CsvSource:
    """Columns of CSV or Parquet files with a timestamp column: a metrics export, or data from any system.

    Relative file names resolve from `base_dir` (the fit file's folder)."""

    name = "csv"

    def __init__(self, base_dir: str | Path | None = None):
        self.base_dir = Path(base_dir) if base_dir else Path.cwd()
        self.warnings: list[str] = []

    def identity(self) -> str:
        return f"csv:{self.base_dir}"

    def window(self, lookback: timedelta, period_s: int, end: datetime | None = None) -> Window:
        return align(lookback, period_s, end)

    def discover(self, file: str | None = None, **_: Any) -> list[MetricInfo]:
        """Every numeric-looking column of one file (or of every CSV/Parquet file in base_dir)."""
        files = (
            [self._path(file)]
            if file
            else sorted(p for p in self.base_dir.iterdir() if p.suffix.lower() in (".csv", ".parquet", ".pq"))
        )
        out = []
        for path in files:
            columns = self._columns(path)
            for column in columns:
                if column == "timestamp":
                    continue
                metric = CsvMetric(
                    file=str(path.relative_to(self.base_dir) if path.is_relative_to(self.base_dir) else path),
                    column=column,
                )
                out.append(
                    MetricInfo(self.name, metric, resource=path.name, suggested_key=_guess_key(column))
                )
        return out

    def fetch(
        self, queries: Sequence[Query], lookback: timedelta, period_s: int, *, end: datetime | None = None
    ) -> pd.DataFrame:
        by_file: dict[tuple, list[Query]] = {}
        for query in queries:
            m: CsvMetric = query.metric  # type: ignore[assignment]
            by_file.setdefault((m.file, m.timestamp_column, m.timezone, m.format, m.name), []).append(query)
        self.warnings = []
        units: dict[tuple, str] = {}
        raw = {key: self._read(key, qs, period_s, units) for key, qs in by_file.items()}
        newest = max((f["timestamp"].max() for f in raw.values() if len(f)), default=None)
        if end is None and newest is None:
            raise ConnectorError(
                "the files hold no readable rows.",
                "Check they have a header line with a timestamp column.",
                source=self.name,
            )
        if end is None:
            # end just after the newest stamp, on a period boundary, so the newest point is inside
            end_s = (math.floor(newest.timestamp() / period_s) + 1) * period_s
            end = datetime.fromtimestamp(end_s, timezone.utc)
        window = align(lookback, period_s, end)
        frames = []
        for key, qs in by_file.items():
            data = raw[key]
            data = data[(data["timestamp"] >= window.start) & (data["timestamp"] < window.end)]
            for q in qs:
                m: CsvMetric = q.metric  # type: ignore[no-redef]
                column = column_of(m)
                col = data[["timestamp", column]].dropna()
                unit = m.unit or units.get((key, column), "")
                frames.append(
                    tidy(
                        list(col["timestamp"]),
                        [q.series] * len(col),
                        col[column].to_numpy(),
                        [unit] * len(col),
                    )
                )
        frame = concat(frames)
        require_data(frame, queries, window, self.name)
        return frame

    # ------------------------------------------------------------ reading

    def _path(self, file: str) -> Path:
        path = Path(file)
        return path if path.is_absolute() else self.base_dir / path

    def _columns(self, path: Path) -> list[str]:
        if path.exists() and not path.is_file():  # /dev/zero, a FIFO: reading never ends
            raise ConnectorError(
                f"{path.name}: is not a regular file.", "Name a CSV or Parquet file.", source=self.name
            )
        try:
            if path.suffix.lower() in (".parquet", ".pq"):
                import pyarrow.parquet as pq

                return list(pq.read_schema(path).names)
            return list(pd.read_csv(path, nrows=0).columns)
        except FileNotFoundError:
            raise ConnectorError(
                f"{path}: no such file.",
                "Paths in a fit file are relative to the fit file.",
                source=self.name,
            ) from None
        except Exception as exc:  # pandas and pyarrow raise many types for a bad file
            raise ConnectorError(
                f"{path}: cannot be read ({exc.__class__.__name__}: {_short(exc)}).", source=self.name
            ) from None

    def _read(self, key: tuple, queries: list[Query], period_s: int, units: dict[tuple, str]) -> pd.DataFrame:
        file, ts_col, tz, fmt, name = key
        path = self._path(file)
        if fmt not in (None, "csv"):
            return self._read_load_test(key, path, queries, period_s, units)
        columns = self._columns(path)
        wanted = list(dict.fromkeys(q.metric.column for q in queries))  # type: ignore[attr-defined]
        for name in [ts_col, *wanted]:
            if name not in columns:
                raise ConnectorError(
                    f"{path.name}: no column {name!r}{_header_hint(columns)}.",
                    "Name a column from the file's header line.",
                    source=self.name,
                )
        chunks = self._chunks(path, [ts_col, *wanted])
        parts, rows, junk, first_junk = [], 0, 0, None
        kept = 0
        for chunk in chunks:
            rows += len(chunk)
            stamps = _parse_stamps(chunk[ts_col], tz, path.name)
            bad = stamps.isna()
            if bad.any():
                junk += int(bad.sum())
                first_junk = first_junk if first_junk is not None else int(chunk.index[bad.to_numpy()][0]) + 2
            chunk = chunk[~bad.to_numpy()]
            values = {c: _parse_values(chunk[c], path.name, c) for c in wanted}
            part = pd.DataFrame(
                {"timestamp": stamps[~bad].to_numpy(), **{c: v.to_numpy() for c, v in values.items()}}
            )
            kept += len(part) * len(wanted)
            if kept > MAX_POINTS:
                raise ConnectorError(
                    f"{path.name}: more than {MAX_POINTS:,} points.",
                    "Trim the file to the weeks you want to fit, or aggregate it to a coarser period first.",
                    source=self.name,
                )
            parts.append(part)
        if rows and junk / rows > MAX_JUNK_FRACTION:
            raise ConnectorError(
                f"{path.name}: {junk} of {rows} rows have no readable {ts_col!r} (first at line {first_junk}).",
                "Use ISO 8601 stamps such as 2024-05-01 12:00:00 or epoch seconds.",
                source=self.name,
            )
        if junk:
            self.warnings.append(
                f"{path.name}: skipped {junk} row(s) without a readable timestamp (first at line {first_junk})"
            )
        data = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame({"timestamp": pd.Series([], dtype="datetime64[ns, UTC]")})
        )
        return _dedupe(data, wanted, path.name)

    def _read_load_test(
        self, key: tuple, path: Path, queries: list[Query], period_s: int, units: dict[tuple, str]
    ) -> pd.DataFrame:
        """Locust's stats history or k6's points (connectors.loadtest_files), as timestamp plus columns."""
        _, _, tz, fmt, name = key
        if fmt == "locust":
            wanted = list(dict.fromkeys(q.metric.column for q in queries))  # type: ignore[attr-defined]
            raw = read_locust(path, wanted, name)
            stamps = _parse_stamps(raw["timestamp"], tz, path.name)
            data = pd.DataFrame(
                {
                    "timestamp": stamps.to_numpy(),
                    **{c: _parse_values(raw[c], path.name, c).to_numpy() for c in wanted},
                }
            )
            units.update({(key, c): locust_unit(c) for c in wanted})
            data = data[data["timestamp"].notna()]
            # Locust writes a row per request name every second or so; repeated stamps keep the last row.
            return (
                data.drop_duplicates("timestamp", keep="last").sort_values("timestamp").reset_index(drop=True)
            )
        metrics = list(dict.fromkeys((q.metric.column, k6_stat(q.metric)) for q in queries))  # type: ignore[attr-defined]
        data, found = read_k6(path, metrics, period_s)
        units.update({(key, c): u for c, u in found.items()})
        return data

    def _chunks(self, path: Path, usecols: list[str]):
        try:
            if path.suffix.lower() in (".parquet", ".pq"):
                frame = pd.read_parquet(path, columns=usecols)
                yield frame.astype({c: "object" for c in usecols if frame[c].dtype == "string"})
                return
            yield from pd.read_csv(
                path,
                usecols=usecols,
                dtype=str,
                keep_default_na=False,
                chunksize=CHUNK_ROWS,
                on_bad_lines="error",
            )
        except ConnectorError:
            raise
        except Exception as exc:
            raise ConnectorError(
                f"{path.name}: cannot be read ({exc.__class__.__name__}: {_short(exc)}).",
                "Check the file is comma-separated with one header line.",
                source=self.name,
            ) from None


def k6_stat(metric: CsvMetric) -> str:
    """How k6 points of one period are reduced: requests are counted, other metrics averaged unless `stat` says."""
    if metric.stat:
        return metric.stat
    return "count" if metric.column in ("http_reqs", "iterations", "data_sent", "data_received") else "mean"


def column_of(metric: CsvMetric) -> str:
    """The column a metric's values are in after reading (k6 columns carry their reduction)."""
    return f"{metric.column}:{k6_stat(metric)}" if metric.format == "k6" else metric.column


def _parse_stamps(raw: pd.Series, tz: str | None, file: str) -> pd.Series:
    """UTC stamps; NaT where unreadable. Naive stamps are in `tz` (default UTC)."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        stamps = raw
    elif pd.api.types.is_numeric_dtype(raw):
        return _epoch(raw)
    else:
        text = raw.astype(str).str.strip()
        if text.str.fullmatch(r"\d{9,13}(\.\d+)?").all():
            return _epoch(pd.to_numeric(text))
        if text.str.contains(_OFFSET).any():
            return pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
        stamps = pd.to_datetime(text, errors="coerce", format="ISO8601")
        if stamps.isna().all() and len(text):
            stamps = pd.to_datetime(text, errors="coerce", format="mixed")
    if stamps.dt.tz is None:
        try:
            stamps = _localize(stamps, tz or "UTC")
        except Exception as exc:
            raise ConnectorError(
                f"{file}: unknown time zone {tz!r} ({_short(exc)}).",
                "Use an IANA name such as Europe/Berlin.",
                source="csv",
            ) from None
    return stamps.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")


def _header_hint(columns: list) -> str:
    """The header's names, when they look like column names: a message must not repeat what a
    file that is not a CSV holds (the first line of /proc/self/environ is the whole environment)."""
    names = [str(c) for c in columns[:12]]
    if any(len(n) > 64 or not n.isprintable() for n in names):
        return " (its first line is not a header of column names)"
    return f" (it has {', '.join(names)})"


def _localize(stamps: pd.Series, tz: str) -> pd.Series:
    """Naive local stamps in `tz`. The hour a daylight-saving change repeats is told apart by
    order (the first pass is summer time); only a stamp that cannot be placed becomes NaT."""
    try:
        return stamps.dt.tz_localize(tz, ambiguous="infer", nonexistent="NaT")
    except Exception:  # the order cannot tell (or the zone is unknown: the retry raises that)
        return stamps.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")


def _epoch(values: pd.Series) -> pd.Series:
    unit = "ms" if values.abs().max() > 1e11 else "s"
    return pd.to_datetime(values, unit=unit, utc=True, errors="coerce").astype("datetime64[ns, UTC]")


def _parse_values(raw: pd.Series, file: str, column: str) -> pd.Series:
    """Floats; empty or NA cells are gaps; other text is an error, not a silent gap."""
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype("float64")
    text = raw.astype(str).str.strip()
    values = pd.to_numeric(text.where(~text.str.lower().isin(_NA)), errors="coerce")
    bad = values.isna() & ~text.str.lower().isin(_NA)
    if bad.any():
        where = raw.index[bad.to_numpy()][0]
        raise ConnectorError(
            f"{file}: column {column!r} line {int(where) + 2} holds {text[bad].iloc[0]!r}, not a number.",
            "Fix or delete that row; leave the cell empty for a gap.",
            source="csv",
        )
    return values.astype("float64")


def _dedupe(data: pd.DataFrame, columns: list[str], file: str) -> pd.DataFrame:
    """Identical repeated rows are dropped; one stamp with two different values is refused."""
    data = data.drop_duplicates()
    dup = data["timestamp"].duplicated(keep=False)
    if dup.any():
        stamp = data.loc[dup, "timestamp"].iloc[0]
        raise ConnectorError(
            f"{file}: the stamp {stamp:%Y-%m-%d %H:%M:%S} UTC appears with different values.",
            "Keep one row per stamp (after time-zone conversion; watch daylight-saving repeats).",
            source="csv",
        )
    return data.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _guess_key(column: str) -> str:
    lowered = column.lower()
    for key in ("cpu", "latency", "hits", "misses", "reads", "writes"):
        if key in lowered:
            return key
    return "traffic" if any(k in lowered for k in ("request", "count", "rps")) else ""


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text[:200]
