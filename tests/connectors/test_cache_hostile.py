"""The series cache under concurrency, moving windows and age: unique temp files, reuse, pruning."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd

from connectors.base import Query, tidy
from connectors.cache import SeriesCache, cached_fetch
from connectors.window import align
from model.fit.file import CloudWatchMetric

PERIOD = 300
END = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
QUERY = Query(
    "traffic",
    CloudWatchMetric(
        namespace="AWS/ApplicationELB",
        name="RequestCount",
        stat="Sum",
        dimensions={"LoadBalancer": "app/shop/1"},
    ),
)


def _minutes(stamps: pd.Series) -> np.ndarray:
    return ((stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(minutes=1)).astype(float).to_numpy()


class CountingSource:
    """A remote-looking source whose every point is its timestamp in minutes; records each pull's window."""

    name = "fake"
    cacheable = True

    def __init__(self):
        self.pulls: list[tuple[datetime, datetime]] = []

    def identity(self) -> str:
        return "fake:account"

    def window(self, lookback, period_s, end=None):
        return align(lookback, period_s, end)

    def fetch(self, queries, lookback, period_s, *, end=None, on_batch=None, allow_empty=False):
        window = self.window(lookback, period_s, end)
        self.pulls.append((window.start, window.end))
        stamps = pd.date_range(window.start, window.end, freq=f"{period_s}s", inclusive="left")
        frames = []
        for q in queries:
            frame = tidy(stamps, q.series, _minutes(pd.Series(stamps)), "Count")
            if on_batch:
                on_batch(frame, [q])
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)


def test_two_threads_writing_one_entry_never_fail(tmp_path):
    cache = SeriesCache(tmp_path)
    window = align(timedelta(days=1), PERIOD, END)
    stamps = pd.date_range(window.start, window.end, freq="300s", inclusive="left")
    frame = tidy(stamps, "traffic", np.arange(len(stamps), dtype=float), "Count")
    key = cache.key("fake", QUERY, window)
    errors: list[BaseException] = []

    def writer():
        for _ in range(15):
            try:
                cache.put(key, frame, window)
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    stored = cache.get(key, "traffic", window)
    assert stored is not None and len(stored) == len(stamps)
    assert not list(tmp_path.glob("*/*.tmp"))  # every temporary file was renamed or removed


def test_a_pull_one_period_later_fetches_only_the_new_period(tmp_path):
    source, cache = CountingSource(), SeriesCache(tmp_path)
    first, stats = cached_fetch(source, [QUERY], timedelta(days=1), PERIOD, end=END, cache=cache)
    assert stats.misses == 1 and len(first) == 288
    again, stats = cached_fetch(source, [QUERY], timedelta(days=1), PERIOD, end=END, cache=cache)
    assert stats.hits == 1 and len(source.pulls) == 1  # a retried pull reuses the whole window
    pd.testing.assert_frame_equal(first, again)
    later, _ = cached_fetch(
        source, [QUERY], timedelta(days=1), PERIOD, end=END + timedelta(minutes=5), cache=cache
    )
    assert source.pulls[-1] == (END, END + timedelta(minutes=5))  # only the new period was asked for
    assert len(later) == 288 and later["timestamp"].min() == first["timestamp"].min() + timedelta(minutes=5)
    expected = _minutes(later["timestamp"])
    assert np.array_equal(later["value"].to_numpy(), expected)  # merged in order, nothing lost or doubled


def test_a_window_outside_what_is_covered_pulls_the_whole_window(tmp_path):
    source, cache = CountingSource(), SeriesCache(tmp_path)
    cached_fetch(source, [QUERY], timedelta(days=1), PERIOD, end=END, cache=cache)
    _, stats = cached_fetch(
        source, [QUERY], timedelta(days=1), PERIOD, end=END - timedelta(days=3), cache=cache
    )
    assert stats.misses == 1 and source.pulls[-1] == (END - timedelta(days=4), END - timedelta(days=3))


def test_pruning_removes_old_entries_then_the_oldest_past_the_size_cap(tmp_path):
    cache = SeriesCache(tmp_path)
    source = CountingSource()
    for k in range(4):
        query = Query(f"s{k}", QUERY.metric.model_copy(update={"name": f"M{k}"}))
        cached_fetch(source, [query], timedelta(days=1), PERIOD, end=END, cache=cache)
    files = sorted(tmp_path.glob("*/*.parquet"))
    assert len(files) == 4
    old = time.time() - 40 * 86400
    os.utime(files[0], (old, old))
    stale_temp = files[1].parent / ".dead-writer.tmp"
    stale_temp.write_bytes(b"x")
    os.utime(stale_temp, (time.time() - 7200, time.time() - 7200))
    assert cache.prune(max_age_days=30, max_mb=1000) == 2
    assert not files[0].exists() and not stale_temp.exists()
    sizes = sorted((f.stat().st_mtime, f) for f in tmp_path.glob("*/*.parquet"))
    os.utime(sizes[0][1], (time.time() - 100, time.time() - 100))  # the least recently used goes first
    cache.prune(max_age_days=30, max_mb=sum(f.stat().st_size for _, f in sizes[1:]) / 1e6)
    assert not sizes[0][1].exists() and all(f.exists() for _, f in sizes[1:])
