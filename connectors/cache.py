"""A local cache of pulled series, so a second look does not pay for a second pull.

One Parquet file per series, keyed by the source's identity (region, profile, project,
endpoint), the metric spec, and the aligned window and period: a query over the same
buckets reads the file; a new window (a later "now" rounds to a new period end) pulls again.
`refresh=True` pulls anyway and overwrites. The folder is platformdirs' user cache dir for
"headroom", or HEADROOM_CACHE_DIR; deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Sequence

import pandas as pd
import platformdirs
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.base import Query, concat, empty_frame, tidy
from connectors.errors import ConnectorError
from connectors.window import Window


_SCHEMA = pa.schema([("timestamp", pa.timestamp("ns", tz="UTC")), ("value", pa.float64()), ("unit", pa.string())])


def cache_dir() -> Path:
    root = os.environ.get("HEADROOM_CACHE_DIR") or platformdirs.user_cache_dir("headroom")
    return Path(root) / "series"


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


class SeriesCache:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else cache_dir()

    def key(self, identity: str, query: Query, window: Window) -> str:
        spec = {"identity": identity, "kind": type(query.metric).__name__,
                "metric": query.metric.model_dump(mode="json"), "window": window.key()}
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:32]

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.parquet"

    def get(self, key: str, series: str) -> pd.DataFrame | None:
        path = self._path(key)
        if not path.exists():
            return None
        try:
            stored = pq.read_table(path).to_pandas()
        except Exception:
            return None  # a torn or foreign file is a miss, and the pull overwrites it
        return tidy(stored["timestamp"], series, stored["value"].to_numpy(), stored["unit"].to_numpy())

    def get_many(self, wanted: Sequence[tuple[str, str]]) -> tuple[pd.DataFrame, set[str]]:
        """(key, series) pairs -> one tidy frame of the hits, and the series ids found.

        Reads Arrow tables and converts once, because a per-series DataFrame costs more than the read.
        """
        tables, names, lengths, found = [], [], [], set()
        for key, series in sorted(wanted, key=lambda pair: pair[1]):
            path = self._path(key)
            if not path.exists():
                continue
            try:
                table = pq.read_table(path, columns=["timestamp", "value", "unit"])
            except Exception:
                continue  # a torn or foreign file is a miss, and the pull overwrites it
            tables.append(table.cast(_SCHEMA))
            names.append(series)
            lengths.append(table.num_rows)
            found.add(series)
        if not tables:
            return empty_frame(), found
        data = pa.concat_tables(tables).to_pandas()
        frame = pd.DataFrame({"timestamp": data["timestamp"],
                              "series": pd.array(np.repeat(np.array(names, dtype=object), lengths), dtype="str"),
                              "value": data["value"], "unit": data["unit"].astype("str")})
        return frame, found

    def put(self, key: str, frame: pd.DataFrame) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_suffix(f".{os.getpid()}.tmp")
            frame[["timestamp", "value", "unit"]].to_parquet(temp, index=False)
            os.replace(temp, path)
        except OSError as exc:
            raise ConnectorError(f"cannot write the series cache in {self.root} ({exc.strerror}).",
                                 "Set HEADROOM_CACHE_DIR to a writable folder.") from None


def cached_fetch(source, queries: Sequence[Query], lookback: timedelta, period_s: int, *,
                 end: datetime | None = None, refresh: bool = False,
                 cache: SeriesCache | None = None) -> tuple[pd.DataFrame, CacheStats]:
    """Fetch through the cache when the source is remote; local sources are read directly."""
    stats = CacheStats()
    if not getattr(source, "cacheable", False):
        stats.misses = len(queries)
        return source.fetch(queries, lookback, period_s, end=end), stats
    cache = cache or SeriesCache()
    window = source.window(lookback, period_s, end)
    identity = source.identity()
    keys = {q.series: cache.key(identity, q, window) for q in queries}
    hits, present = (empty_frame(), set()) if refresh else cache.get_many([(keys[q.series], q.series) for q in queries])
    found = [hits]
    missing = [q for q in queries if q.series not in present]
    stats.hits, stats.misses = len(present), len(missing)

    def store(frame: pd.DataFrame, batch: Sequence[Query]) -> None:
        # stored as each batch lands, so a pull that fails half-way keeps what it paid for
        for q in batch:
            cache.put(keys[q.series], frame[frame["series"] == q.series])

    if missing:
        found.append(source.fetch(missing, lookback, period_s, end=window.end, on_batch=store))
    return concat(found), stats
