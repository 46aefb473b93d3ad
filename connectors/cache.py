"""A local cache of pulled series, so a second look does not pay for a second pull.

One Parquet file per series, keyed by the source's identity (region, profile, project,
endpoint), the metric spec and the period, but not the window: the file holds every point
pulled for that series and the time ranges the pulls covered (in its schema metadata). A
query whose window lies inside what is covered reads the file; a window that moved on (a
later "now" rounds to a new period end) pulls only the periods after what is covered, and
merges them in, so a retried or repeated pull reuses what it has. `refresh=True` pulls the
whole window anyway. Each write goes to its own temporary file and replaces the entry
atomically, so two writers (threads or processes) never tear or fail each other. Entries
unused for HEADROOM_CACHE_MAX_AGE_DAYS (default 30) are pruned, and the oldest go first
when the folder passes HEADROOM_CACHE_MAX_MB (default 500). The folder is platformdirs' user
cache dir for "headroom", or HEADROOM_CACHE_DIR; deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
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


_SCHEMA = pa.schema(
    [("timestamp", pa.timestamp("ns", tz="UTC")), ("value", pa.float64()), ("unit", pa.string())]
)
_COVERED = b"headroom_covered"  # schema metadata: JSON list of [start_s, end_s) ranges the pulls covered
MAX_AGE_DAYS = float(os.environ.get("HEADROOM_CACHE_MAX_AGE_DAYS", "30"))
MAX_MB = float(os.environ.get("HEADROOM_CACHE_MAX_MB", "500"))
PRUNE_EVERY_S = 600.0  # a process prunes at most this often
_last_prune: dict[str, float] = {}
_prune_lock = threading.Lock()


def cache_dir() -> Path:
    root = os.environ.get("HEADROOM_CACHE_DIR") or platformdirs.user_cache_dir("headroom")
    return Path(root) / "series"


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


@dataclass
class Entry:
    """One series' file: its points and the [start_s, end_s) ranges they cover."""

    frame: pd.DataFrame
    covered: list[tuple[int, int]]

    def covers(self, window: Window) -> bool:
        start, end = int(window.start.timestamp()), int(window.end.timestamp())
        return any(a <= start and end <= b for a, b in self.covered)

    def covered_until(self, window: Window) -> int | None:
        """The end of the covered range that holds the window's start (a pull can start there), or None."""
        start = int(window.start.timestamp())
        ends = [b for a, b in self.covered if a <= start < b]
        return max(ends) if ends else None


def _merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


class SeriesCache:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else cache_dir()

    def key(self, identity: str, query: Query, window: Window) -> str:
        """The series' key: who, which metric, which period; not which window (see the module's note)."""
        spec = {
            "identity": identity,
            "kind": type(query.metric).__name__,
            "metric": query.metric.model_dump(mode="json"),
            "period_s": window.period_s,
        }
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:32]

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.parquet"

    def entry(self, key: str) -> Entry | None:
        path = self._path(key)
        if not path.exists():
            return None
        try:
            table = pq.read_table(path, columns=["timestamp", "value", "unit"])
            covered = json.loads((table.schema.metadata or {}).get(_COVERED, b"[]"))
            frame = table.cast(_SCHEMA).to_pandas()
        except Exception:
            return None  # a torn or foreign file is a miss, and the pull overwrites it
        return Entry(frame, [(int(a), int(b)) for a, b in covered])

    def get(self, key: str, series: str, window: Window | None = None) -> pd.DataFrame | None:
        """The series' points (inside `window` when given, and only if the window is covered), or None."""
        found = self.entry(key)
        if found is None or (window is not None and not found.covers(window)):
            return None
        stored = _inside(found.frame, window) if window is not None else found.frame
        return tidy(stored["timestamp"], series, stored["value"].to_numpy(), stored["unit"].to_numpy())

    def get_many(
        self, wanted: Sequence[tuple[str, str]], window: Window | None = None
    ) -> tuple[pd.DataFrame, set[str]]:
        """(key, series) pairs -> one tidy frame of the hits (covered windows only), and the series ids found."""
        parts, names, lengths, found = [], [], [], set()
        for key, series in sorted(wanted, key=lambda pair: pair[1]):
            entry = self.entry(key)
            if entry is None or (window is not None and not entry.covers(window)):
                continue
            part = _inside(entry.frame, window) if window is not None else entry.frame
            parts.append(part)
            names.append(series)
            lengths.append(len(part))
            found.add(series)
        if not parts:
            return empty_frame(), found
        data = pd.concat(parts, ignore_index=True)
        frame = pd.DataFrame(
            {
                "timestamp": data["timestamp"],
                "series": pd.array(np.repeat(np.array(names, dtype=object), lengths), dtype="str"),
                "value": data["value"],
                "unit": data["unit"].astype("str"),
            }
        )
        return frame, found

    def put(self, key: str, frame: pd.DataFrame, window: Window | None = None, merge: bool = True) -> None:
        """Store a pull of `window` for one series, merged with what the entry held; atomic, unique temp file."""
        path = self._path(key)
        points = frame[["timestamp", "value", "unit"]]
        covered: list[tuple[int, int]] = []
        old = self.entry(key) if merge else None
        if old is not None:
            points = pd.concat([old.frame, points], ignore_index=True)
            covered = list(old.covered)
        if window is not None:
            covered.append((int(window.start.timestamp()), int(window.end.timestamp())))
        points = points.drop_duplicates(["timestamp"], keep="last").sort_values("timestamp", kind="stable")
        table = pa.Table.from_pandas(points.reset_index(drop=True), schema=_SCHEMA, preserve_index=False)
        table = table.replace_schema_metadata({_COVERED: json.dumps(_merge_ranges(covered)).encode()})
        temp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=path.parent)
            os.close(descriptor)
            pq.write_table(table, temp)
            os.replace(temp, path)
            temp = None
        except OSError as exc:
            raise ConnectorError(
                f"cannot write the series cache in {self.root} ({exc.strerror}).",
                "Set HEADROOM_CACHE_DIR to a writable folder.",
            ) from None
        finally:
            if temp is not None:
                try:
                    os.unlink(temp)
                except OSError:
                    pass

    def prune(self, max_age_days: float | None = None, max_mb: float | None = None) -> int:
        """Delete entries unused for `max_age_days`, then the least recently used past `max_mb`; files removed."""
        max_age_s = 86400 * (MAX_AGE_DAYS if max_age_days is None else max_age_days)
        limit = 1e6 * (MAX_MB if max_mb is None else max_mb)
        now = time.time()
        files = []
        for path in self.root.glob("*/*"):
            try:
                stat = path.stat()
            except OSError:
                continue
            files.append((max(stat.st_mtime, stat.st_atime), stat.st_size, path, path.suffix == ".tmp"))
        removed, kept, total = 0, [], 0
        for used, size, path, temp in files:
            if now - used > (3600 if temp else max_age_s):  # a temp file an hour old belongs to a dead writer
                removed += _unlink(path)
            elif not temp:
                kept.append((used, size, path))
                total += size
        for _used, size, path in sorted(kept):
            if total <= limit:
                break
            removed += _unlink(path)
            total -= size
        return removed

    def prune_now_and_then(self) -> None:
        with _prune_lock:
            last = _last_prune.get(str(self.root), 0.0)
            if time.monotonic() - last < PRUNE_EVERY_S and last:
                return
            _last_prune[str(self.root)] = time.monotonic()
        self.prune()


def _unlink(path: Path) -> int:
    try:
        path.unlink()
        return 1
    except OSError:
        return 0


def _inside(frame: pd.DataFrame, window: Window) -> pd.DataFrame:
    stamps = frame["timestamp"]
    return frame[(stamps >= window.start) & (stamps < window.end)]


def cached_fetch(
    source,
    queries: Sequence[Query],
    lookback: timedelta,
    period_s: int,
    *,
    end: datetime | None = None,
    refresh: bool = False,
    cache: SeriesCache | None = None,
) -> tuple[pd.DataFrame, CacheStats]:
    """Fetch through the cache when the source is remote; local sources are read directly.

    Series whose window is covered are read; series covered from the window's start up to
    some later boundary pull only the rest (one call for all of them that end alike); the
    others pull the whole window."""
    stats = CacheStats()
    if not getattr(source, "cacheable", False):
        stats.misses = len(queries)
        return source.fetch(queries, lookback, period_s, end=end), stats
    cache = cache or SeriesCache()
    cache.prune_now_and_then()
    window = source.window(lookback, period_s, end)
    identity = source.identity()
    keys = {q.series: cache.key(identity, q, window) for q in queries}
    hits, present = (
        (empty_frame(), set())
        if refresh
        else cache.get_many([(keys[q.series], q.series) for q in queries], window)
    )
    found = [hits]
    missing = [q for q in queries if q.series not in present]
    stats.hits, stats.misses = len(present), len(missing)
    tails: dict[int, list[Query]] = {}
    whole: list[Query] = []
    end_s = int(window.end.timestamp())
    for q in missing:
        entry = None if refresh else cache.entry(keys[q.series])
        until = entry.covered_until(window) if entry is not None else None
        if until is not None and until < end_s:
            tails.setdefault(until, []).append(q)
        else:
            whole.append(q)

    def store(pulled: Window):
        def put(frame: pd.DataFrame, batch: Sequence[Query]) -> None:
            # stored as each batch lands, so a pull that fails half-way keeps what it paid for
            for q in batch:
                cache.put(keys[q.series], frame[frame["series"] == q.series], pulled, merge=not refresh)

        return put

    for until, batch in sorted(tails.items()):
        tail = Window(datetime.fromtimestamp(until, timezone.utc), window.end, period_s)
        source.fetch(
            batch, tail.end - tail.start, period_s, end=window.end, on_batch=store(tail), allow_empty=True
        )
        frame, _ = cache.get_many([(keys[q.series], q.series) for q in batch], window)
        found.append(frame)
    if whole:
        found.append(source.fetch(whole, lookback, period_s, end=window.end, on_batch=store(window)))
    return concat(found), stats
