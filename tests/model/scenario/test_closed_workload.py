"""A closed workload (`workload.users`, `think_ms`): exclusive with rate_rps, bounded, overridable."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.scenario.reader import ScenarioError, load_changes, load_scenario, scenario_from_text

CLOSED = """\
version: 1
name: Closed
workload:
  users: 50
  think_ms: 1000
entry: web
nodes:
  web: {kind: service, replicas: 2, service_ms: 20}
"""


def refused(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(text, "bad.yaml")
    return info.value


def test_a_closed_workload_loads_with_its_users_and_think_time():
    s = scenario_from_text(CLOSED)
    assert s.workload.closed and s.workload.users == 50 and s.workload.think_ms == 1000
    assert s.workload.rate_rps is None
    assert s.workload.think_time_ms == 1000


def test_think_time_defaults_to_zero():
    s = scenario_from_text(CLOSED.replace("  think_ms: 1000\n", ""))
    assert s.workload.think_ms is None and s.workload.think_time_ms == 0.0


def test_an_open_workload_is_not_closed():
    s = scenario_from_text(CLOSED.replace("users: 50\n  think_ms: 1000", "rate_rps: 30"))
    assert not s.workload.closed and s.workload.rate_rps == 30


@pytest.mark.parametrize(
    "old, new, key_path, line, words",
    [
        ("users: 50", "users: 50\n  rate_rps: 10", "workload.users", 4, "exclusive"),
        ("users: 50\n  think_ms: 1000", "growth_pct_per_month: 2", "workload.rate_rps", 3, "or users"),
        ("users: 50\n", "rate_rps: 10\n", "workload.think_ms", 5, "needs users"),
        (
            "think_ms: 1000",
            "think_ms: 1000\n  arrivals: deterministic",
            "workload.arrivals",
            6,
            "open workload",
        ),
        ("users: 50", "users: 0", "workload.users", 4, "greater than or equal to 1"),
        ("users: 50", "users: 2.5", "workload.users", 4, "integer"),
        ("think_ms: 1000", "think_ms: -1", "workload.think_ms", 5, "greater than or equal to 0"),
        ("users: 50", "users: 5000000", "workload.users", 4, "HEADROOM_MAX_USERS"),
        ("think_ms: 1000", "think_ms: 100000000000", "workload.think_ms", 5, "HEADROOM_MAX_MS"),
    ],
)
def test_refusals_name_the_key_path_and_line(old, new, key_path, line, words):
    err = refused(CLOSED.replace(old, new))
    assert err.path == key_path, str(err)
    assert err.line == line, str(err)
    assert words in err.message, str(err)


def test_users_limit_is_raised_by_its_environment_variable(monkeypatch):
    monkeypatch.setenv("HEADROOM_MAX_USERS", "10000000")
    assert scenario_from_text(CLOSED.replace("users: 50", "users: 5000000")).workload.users == 5_000_000


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    closed = tmp_path / "closed.yaml"
    closed.write_text(CLOSED)
    opened = tmp_path / "open.yaml"
    opened.write_text(CLOSED.replace("users: 50\n  think_ms: 1000", "rate_rps: 30"))
    return closed, opened


def test_users_override_makes_an_open_file_closed(files):
    _, opened = files
    s = load_scenario(opened, users=7)
    assert s.workload.closed and s.workload.users == 7 and s.workload.rate_rps is None


def test_users_override_replaces_the_users_and_keeps_think_time(files):
    closed, _ = files
    s = load_scenario(closed, users=7)
    assert s.workload.users == 7 and s.workload.think_ms == 1000


def test_rate_override_makes_a_closed_file_open(files):
    closed, _ = files
    s = load_scenario(closed, rate_rps=12.5)
    assert not s.workload.closed and s.workload.rate_rps == 12.5 and s.workload.think_ms is None


def test_rate_and_users_together_are_refused():
    with pytest.raises(ScenarioError, match="not both"):
        load_changes(5.0, 3)


def test_set_of_users_on_an_open_file_is_refused_as_both(files):
    _, opened = files
    with pytest.raises(ScenarioError, match="exclusive"):
        load_scenario(opened, ["workload.users=5"])
