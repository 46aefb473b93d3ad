"""The engineer's own CSV files on Observe and Calibrate, under AppTest (issue 14's blocking path).

Two files, as CloudWatch exports come: ELB request counts per five minutes in one, and a
multi-column file with web CPU in percent, database CPU as a fraction and p99 latency in
seconds. The web tier really runs 6 replicas of 2 cores at 30 ms of CPU per request, so a
fit that divides by the scenario file's 4 replicas would say 20 ms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from streamlit_ui import csv_mapping, state
from tests.app.apptools import app, metric, no_errors

SERVICE_MS, REPLICAS, CPUS = 30.0, 6, 2


def engineer_files() -> list[tuple[str, bytes, str]]:
    rng = np.random.default_rng(3)
    stamps = pd.date_range("2026-10-01", periods=14 * 288, freq="300s", tz="UTC")
    hour = stamps.hour.to_numpy() + stamps.minute.to_numpy() / 60
    rps = np.clip(60 + 40 * np.sin((hour - 6) / 24 * 2 * np.pi) ** 2 + rng.normal(0, 3, len(stamps)), 5, None)
    text = stamps.strftime("%Y-%m-%dT%H:%M:%SZ")
    counts = pd.DataFrame({"timestamp": text, "RequestCount": np.round(rps * 300).astype(int)})
    web = 100 * (0.05 + rps * SERVICE_MS / 1000 / (REPLICAS * CPUS)) + rng.normal(0, 0.3, len(stamps))
    db = 0.03 + rps * 0.2 * 0.004 / 4 + rng.normal(0, 0.002, len(stamps))
    wide = pd.DataFrame(
        {
            "timestamp": text,
            "web_cpu_pct": web.round(3),
            "db_cpu": db.round(5),
            "p99_latency_s": (0.08 + rng.normal(0, 0.005, len(stamps))).round(4),
        }
    )
    return [
        ("elb_requests.csv", counts.to_csv(index=False).encode(), "text/csv"),
        ("metrics.csv", wide.to_csv(index=False).encode(), "text/csv"),
    ]


def _upload(at, files):
    at.segmented_control(key="obs-source").set_value("csv").run()
    at.get("file_uploader")[0].set_value(files).run()
    return at


def _pick(at, slot: str, label: str):
    box = next(s for s in at.selectbox if s.label == slot)
    box.select_index(box.options.index(label)).run()


def _yaml(at) -> dict:
    """The page's YAML block (the fit file on Observe, the fitted scenario on Calibrate), not the sidebar's changes."""
    return yaml.safe_load(next(c.value for c in reversed(at.code) if "nodes:" in c.value))


def _picked(at) -> dict[str, str]:
    """Each slot's choice as the label it shows."""
    return {s.label: s.options[s.index] for s in at.selectbox if s.index is not None}


def test_every_column_of_every_uploaded_file_is_listed_by_file_and_column():
    files = engineer_files()
    at = _upload(app("observe"), files[:1])
    no_errors(at)
    traffic = next(s for s in at.selectbox if s.label == "entry traffic")
    assert "elb_requests.csv: RequestCount" in traffic.options
    # a second file, uploaded later in the same session, is discovered (not hidden by the cache)
    at.get("file_uploader")[0].set_value(files).run()
    no_errors(at)
    traffic = next(s for s in at.selectbox if s.label == "entry traffic")
    assert {"metrics.csv: web_cpu_pct", "metrics.csv: db_cpu", "metrics.csv: p99_latency_s"} <= set(
        traffic.options
    )


def test_each_mapped_column_is_itself_with_its_detected_kind_in_the_fit_file():
    at = _upload(app("observe"), engineer_files())
    no_errors(at)
    picked = _picked(at)
    assert picked["entry traffic"] == "elb_requests.csv: RequestCount"
    assert picked["web.cpu"] == "metrics.csv: web_cpu_pct"
    assert picked["db.cpu"] == "metrics.csv: db_cpu"
    assert picked["entry latency"] == "metrics.csv: p99_latency_s"
    kinds = {r.label: r.value for r in at.radio}
    assert kinds == {
        "entry traffic is": "count",
        "entry latency is": "s",
        "web.cpu is": "percent",
        "db.cpu is": "fraction",
    }
    fit = _yaml(at)
    assert fit["traffic"] == {
        "metric": {
            "file": "elb_requests.csv",
            "column": "RequestCount",
            "timestamp_column": "timestamp",
            "unit": "count",
        },
        "kind": "count",
    }
    assert (
        fit["nodes"]["web"]["cpu"]["column"] == "web_cpu_pct"
        and fit["nodes"]["db"]["cpu"]["column"] == "db_cpu"
    )
    assert fit["nodes"]["db"]["cpu"]["unit"] == "fraction" and fit["latency"]["metric"]["unit"] == "s"
    # counts per 5 minutes are shown per second: the preview's peak is the fit's, not 300 times it
    peak = float(metric(at, "Peak load").split()[0].replace(",", ""))
    assert 90 < peak < 120


def test_a_kind_changed_by_hand_reaches_the_fit_file_and_the_preview():
    at = _upload(app("observe"), engineer_files())
    next(r for r in at.radio if r.label == "entry traffic is").set_value("rate").run()
    no_errors(at)
    fit = _yaml(at)
    assert fit["traffic"]["kind"] == "rate" and fit["traffic"]["metric"]["unit"] == "count/second"
    assert (
        float(metric(at, "Peak load").split()[0].replace(",", "")) > 20_000
    )  # read as a rate: 300 times higher


def test_a_column_mapped_to_two_slots_stays_what_was_picked():
    at = _upload(app("observe"), engineer_files())
    _pick(at, "web.cpu", "metrics.csv: db_cpu")
    no_errors(at)
    fit = _yaml(at)
    assert fit["nodes"]["web"]["cpu"]["column"] == "db_cpu"  # not the file's first column


def test_whatif_replicas_reach_the_fit_file_and_the_fitted_scenario():
    at = app("whatif")
    at.session_state[state.CHANGES] = {"nodes.web.replicas": REPLICAS}
    at.switch_page("pages/observe.py").run()
    _upload(at, engineer_files())
    no_errors(at)
    fit = _yaml(at)
    assert fit["nodes"]["web"]["replicas"] == REPLICAS
    at.switch_page("pages/calibrate.py").run()
    no_errors(at)
    fitted = _yaml(at)
    assert fitted["nodes"]["web"]["replicas"] == REPLICAS
    assert fitted["nodes"]["web"]["service_ms"] == pytest.approx(SERVICE_MS, rel=0.05)


def test_calibrate_on_the_demo_uses_whatif_replicas_too():
    at = app("calibrate", {})
    at.session_state[state.CHANGES] = {"nodes.web.replicas": 6}
    at.run()
    no_errors(at)
    assert _yaml(at)["nodes"]["web"]["replicas"] == 6


@pytest.mark.parametrize(
    "key, column, values, kind",
    [
        ("traffic", "RequestCount", [300, 412, 380], "count"),
        ("traffic", "requests_per_sec", [1.2, 1.4], "rate"),
        ("traffic", "reqs", [1.25, 3.5], "rate"),
        ("cpu", "cpu", [0.2, 0.7], "fraction"),
        ("cpu", "cpu", [20, 70], "percent"),
        ("latency", "p99_ms", [0.5, 0.9], "ms"),
        ("latency", "p99", [0.12, 0.3], "s"),
        ("latency", "p99", [120, 300], "ms"),
        ("replicas", "running", [4, 5], None),
    ],
)
def test_detected_kinds(key, column, values, kind):
    assert csv_mapping.detect_kind(key, column, pd.Series(values)) == kind


def test_uploads_replace_what_is_gone_and_key_on_content(tmp_path):
    tmp_path = tmp_path / "uploads"
    first = csv_mapping.save_uploads(
        tmp_path, [("a.csv", b"timestamp,x\n1,2\n"), ("b.csv", b"timestamp,y\n1,2\n")]
    )
    again = csv_mapping.save_uploads(tmp_path, [("a.csv", b"timestamp,x\n1,3\n")])
    assert [name for name, _ in first] == ["a.csv", "b.csv"] and [name for name, _ in again] == ["a.csv"]
    assert first[0][1] != again[0][1] and sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]
