"""CSV and Parquet: real NAB exports unchanged, and messy files refused or cleaned with a message."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from connectors import csv_source
from connectors.base import Query
from connectors.csv_source import CsvSource
from connectors.errors import ConnectorError
from model.fit.file import CsvMetric
from tests.connectors.conftest import NAB

NAB_FILES = sorted(p.name for p in NAB.glob("*.csv"))


def fetch(base, file, column="value", days=400, **kw):
    return CsvSource(base).fetch(
        [Query("s", CsvMetric(file=file, column=column, **kw))], timedelta(days=days), 300
    )


@pytest.mark.parametrize("name", NAB_FILES)
def test_nab_files_come_back_unchanged(name):
    raw = pd.read_csv(NAB / name)
    frame = fetch(NAB, name)
    assert len(NAB_FILES) == 9
    assert frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S").tolist() == raw["timestamp"].tolist()
    assert frame["value"].tolist() == raw["value"].astype(float).tolist()
    gaps_in = (pd.to_datetime(raw["timestamp"]).diff() > pd.Timedelta(minutes=5)).sum()
    assert (frame["timestamp"].diff() > pd.Timedelta(minutes=5)).sum() == gaps_in


def test_lookback_counts_back_from_the_newest_stamp():
    frame = fetch(NAB, "elb_request_count_8c0756.csv", days=1)
    newest = (
        pd.to_datetime(pd.read_csv(NAB / "elb_request_count_8c0756.csv")["timestamp"])
        .max()
        .tz_localize("UTC")
    )
    assert frame["timestamp"].max() == newest
    assert frame["timestamp"].min() >= frame["timestamp"].max() - pd.Timedelta(days=1)


def test_time_zones(tmp_path):
    (tmp_path / "z.csv").write_text("timestamp,cpu\n2024-03-01T12:00:00+02:00,1\n2024-03-01T10:05:00Z,2\n")
    assert fetch(tmp_path, "z.csv", "cpu")["timestamp"].dt.strftime("%H:%M").tolist() == ["10:00", "10:05"]
    (tmp_path / "n.csv").write_text("timestamp,cpu\n2024-03-01 12:00,1\n2024-03-01 12:05,2\n")
    berlin = fetch(tmp_path, "n.csv", "cpu", timezone="Europe/Berlin")
    assert berlin["timestamp"].dt.strftime("%H:%M").tolist() == ["11:00", "11:05"]
    (tmp_path / "e.csv").write_text("timestamp,cpu\n1709294400,1\n1709294700,2\n")
    assert fetch(tmp_path, "e.csv", "cpu")["timestamp"].iloc[0] == pd.Timestamp("2024-03-01 12:00", tz="UTC")


def test_gaps_and_duplicates(tmp_path):
    (tmp_path / "g.csv").write_text(
        "timestamp,cpu,rps\n2024-01-01 00:00,1,10\n2024-01-01 00:05,,11\n"
        "2024-01-01 00:05,,11\n2024-01-01 00:10,n/a,12\n2024-01-01 00:15,4,13\n"
    )
    src = CsvSource(tmp_path)
    frame = src.fetch(
        [
            Query("cpu", CsvMetric(file="g.csv", column="cpu")),
            Query("rps", CsvMetric(file="g.csv", column="rps")),
        ],
        timedelta(days=1),
        300,
    )
    assert frame[frame.series == "cpu"]["value"].tolist() == [1.0, 4.0]  # blanks stay gaps
    assert frame[frame.series == "rps"]["value"].tolist() == [
        10.0,
        11.0,
        12.0,
        13.0,
    ]  # the repeated row counted once
    (tmp_path / "d.csv").write_text("timestamp,cpu\n2024-01-01 00:00,1\n2024-01-01 00:00,2\n")
    with pytest.raises(ConnectorError, match="2024-01-01 00:00:00 UTC appears with different values"):
        fetch(tmp_path, "d.csv", "cpu")


def test_junk_rows(tmp_path):
    rows = "".join(f"2024-01-01 {h:02d}:{m:02d},{h}\n" for h in range(24) for m in range(0, 60, 5))
    (tmp_path / "few.csv").write_text("timestamp,cpu\n" + rows + "total,999\n")
    src = CsvSource(tmp_path)
    frame = src.fetch([Query("s", CsvMetric(file="few.csv", column="cpu"))], timedelta(days=2), 300)
    assert len(frame) == 288 and 999.0 not in frame["value"].tolist()
    assert "skipped 1 row(s)" in src.warnings[0] and "line 290" in src.warnings[0]
    (tmp_path / "many.csv").write_text("timestamp,cpu\nyesterday,1\nnoon,2\n2024-01-01 00:00,3\n")
    with pytest.raises(ConnectorError, match=r"2 of 3 rows have no readable 'timestamp' \(first at line 2\)"):
        fetch(tmp_path, "many.csv", "cpu")
    (tmp_path / "text.csv").write_text("timestamp,cpu\n2024-01-01 00:00,1\n2024-01-01 00:05,12%\n")
    with pytest.raises(ConnectorError, match=r"line 3 holds '12%', not a number"):
        fetch(tmp_path, "text.csv", "cpu")


def test_missing_column_and_file(tmp_path):
    with pytest.raises(ConnectorError, match="no column 'cpu' \\(it has timestamp, value\\)"):
        fetch(NAB, "grok_asg_anomaly.csv", "cpu")
    with pytest.raises(ConnectorError, match="no such file"):
        fetch(tmp_path, "absent.csv")


def test_parquet_and_large_files_in_chunks(tmp_path, monkeypatch):
    raw = pd.read_csv(NAB / "cpu_utilization_asg_misconfiguration.csv")
    raw.to_parquet(tmp_path / "asg.parquet")
    assert fetch(tmp_path, "asg.parquet")["value"].tolist() == raw["value"].astype(float).tolist()
    monkeypatch.setattr(csv_source, "CHUNK_ROWS", 1000)  # read 18,050 rows in 19 chunks
    assert len(fetch(NAB, "cpu_utilization_asg_misconfiguration.csv")) == len(raw)
    monkeypatch.setattr(csv_source, "MAX_POINTS", 5000)
    with pytest.raises(ConnectorError, match="more than 5,000 points"):
        fetch(NAB, "cpu_utilization_asg_misconfiguration.csv")


def test_discover_lists_columns():
    found = CsvSource(NAB).discover()
    assert len(found) == 9 and {m.metric.column for m in found} == {"value"}
