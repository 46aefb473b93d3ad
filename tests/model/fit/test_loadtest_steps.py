"""A user's Locust or k6 run read into plateaus by user count, for the ramp to show beside its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.errors import ConnectorError
from model.fit.loadtest_steps import k6_steps, locust_steps

HERE = Path(__file__).resolve().parents[2] / "connectors" / "loadtest"


def test_locust_history_becomes_one_step_per_user_count():
    steps = locust_steps(HERE / "locust_stats_history.csv")
    assert [s.users for s in steps] == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 40]
    held = steps[-2]
    assert held.start_s == 27.0 and held.duration_s == 30.0
    assert held.throughput_rps == pytest.approx(50.1, abs=0.2)
    assert held.p99_ms == 49.0 and held.error_pct == 0.0


def _k6_file(tmp_path: Path) -> Path:
    lines = []
    for second in range(40):
        vus = 5 if second < 20 else 10
        stamp = f"2026-03-02T10:00:{second:02d}.000000Z"
        lines.append({"type": "Point", "metric": "vus", "data": {"time": stamp, "value": vus}})
        for k in range(vus):  # one request per user per second, 10 ms at 5 users and 30 ms at 10
            t = f"2026-03-02T10:00:{second:02d}.{k:06d}Z"
            lines.append({"type": "Point", "metric": "http_reqs", "data": {"time": t, "value": 1}})
            lines.append(
                {
                    "type": "Point",
                    "metric": "http_req_duration",
                    "data": {"time": t, "value": 10.0 if vus == 5 else 30.0},
                }
            )
            lines.append({"type": "Point", "metric": "http_req_failed", "data": {"time": t, "value": 0}})
    path = tmp_path / "points.json"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    return path


def test_k6_points_become_one_step_per_vus(tmp_path):
    steps = k6_steps(_k6_file(tmp_path))
    assert [s.users for s in steps] == [5, 10]
    assert steps[0].throughput_rps == pytest.approx(5.0) and steps[1].throughput_rps == pytest.approx(10.0)
    assert steps[0].p99_ms == pytest.approx(10.0) and steps[1].p50_ms == pytest.approx(30.0)
    assert steps[0].duration_s == pytest.approx(20.0) and steps[1].start_s == pytest.approx(20.0)
    assert steps[0].error_pct == 0.0


def test_a_k6_file_without_vus_is_refused_with_what_to_give():
    with pytest.raises(ConnectorError, match="vus"):
        k6_steps(HERE / "k6_points.json")
