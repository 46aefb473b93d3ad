"""Hostile input at the model's own entry points (what the app calls): bounded reading, one error
format for both YAML file kinds, traces that cannot reach outside their folder, sparse and
iterative graph work, and a constant-time Erlang formula (issue 17)."""

from __future__ import annotations

import math
import os
import threading
import time
import tracemalloc

import pandas as pd
import pytest

from model.fit.file import FitFileError, fit_file_from_text, load_fit_file
from model.scenario.graph import routing_matrix, visit_ratios
from model.scenario.limits import LimitError, check, clip, limit
from model.scenario.reader import ScenarioError, load_scenario, scenario_from_data, scenario_from_text
from model.queueing.analytic.formulas import ERLANG_RECURSION_SERVERS, erlang_b_closed, erlang_c
from model.scenario.schema import Scenario, find_sync_cycle
from model.scenario.strict_yaml import StrictYamlError
from model.scenario.trace import TraceError, load_trace, read_trace_frame

SCENARIO = """version: 1
name: small
workload: {rate_rps: 10}
entry: web
nodes:
  web: {kind: service, replicas: 2, service_ms: 5}
"""
FIT = "version: 1\ntraffic: {metric: {series: traffic}}\nentry: web\nnodes: {web: {kind: service}}\n"
SECRET = "CANARY-model-secret"


def _data(nodes: dict, entry: str = "n0") -> dict:
    return {"version": 1, "name": "x", "workload": {"rate_rps": 1}, "entry": entry, "nodes": nodes}


# ---------------------------------------------------------------- one strict-YAML reader


@pytest.mark.parametrize(
    "text, words",
    [
        ("a: &a [1, 2]\nb: *a\n", "aliases"),
        ("version: 1\nname: " + "[" * 200 + "]" * 200 + "\n", "nested deeper"),
        ("version: 1\nname: [" + ", ".join(["1"] * 30_000) + "]\n", "HEADROOM_MAX_YAML_NODES"),
        ("version: 1\nname: x\n" + "# pad\n" * 200_000, "HEADROOM_MAX_YAML_BYTES"),
        ("version: 1\n  name: x\n", "not valid YAML"),
    ],
    ids=["alias", "depth", "values", "bytes", "syntax"],
)
def test_both_file_kinds_refuse_the_same_way(text, words):
    """The same bad YAML gives the same one-line message in a scenario and in a fit file."""
    with pytest.raises(ScenarioError) as scenario_error:
        scenario_from_text(text, "s.yaml")
    with pytest.raises(FitFileError) as fit_error:
        fit_file_from_text(text, "s.yaml")
    assert words in str(scenario_error.value)
    assert str(scenario_error.value) == str(fit_error.value)
    assert isinstance(scenario_error.value, StrictYamlError) and isinstance(fit_error.value, StrictYamlError)


def test_a_billion_laughs_fails_fast_and_small():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
    )
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="line 2.*aliases"):
        scenario_from_text(bomb, "bomb.yaml")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5_000_000 and time.perf_counter() - started < 5


def test_true_is_not_a_number_in_either_file_kind():
    with pytest.raises(ScenarioError, match=r"nodes\.web\.replicas \(line 6\): must be a number"):
        scenario_from_text(SCENARIO.replace("replicas: 2", "replicas: true"), "s.yaml")
    with pytest.raises(FitFileError, match=r"nodes\.web\.replicas \(line 4\): must be a number"):
        fit_file_from_text(FIT.replace("{kind: service}", "{kind: service, replicas: true}"), "f.yaml")
    assert scenario_from_text(SCENARIO.replace("service_ms: 5", "service_ms: 5, blocking_calls: false"))


def test_non_regular_files_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        with pytest.raises(ScenarioError, match="not a regular file"):
            load_scenario(path)
        with pytest.raises(FitFileError, match="not a regular file"):
            load_fit_file(path)


def test_errors_never_repeat_more_than_a_clip_of_the_input():
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(SCENARIO.replace("name: small", "name: [" + "y" * 50_000 + "]"), "s.yaml")
    assert len(str(info.value)) < 500
    assert clip("\x1b[2J" + "z" * 1000).startswith("\\x1b[2J") and len(clip("z" * 1000)) < 260


def test_limits_can_be_raised_through_the_environment(monkeypatch):
    with pytest.raises(LimitError, match="HEADROOM_MAX_REPLICAS"):
        check("REPLICAS", 20_000, "replicas")
    monkeypatch.setenv("HEADROOM_MAX_REPLICAS", "50_000")
    assert limit("REPLICAS") == 50_000
    check("REPLICAS", 20_000, "replicas")


# ---------------------------------------------------------------- traces


def _with_trace(folder, trace: str) -> str:
    path = folder / "s.yaml"
    path.write_text(
        SCENARIO.replace(
            "workload: {rate_rps: 10}", f"workload: {{rate_rps: 10, arrivals: trace, trace: '{trace}'}}"
        )
    )
    return str(path)


def test_a_trace_file_must_be_inside_the_scenarios_folder(tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text(f"timestamp,rate_rps\n{SECRET},1\n")
    inner = tmp_path / "in"
    inner.mkdir()
    (inner / "link.csv").symlink_to(outside)
    for trace, words in (
        (str(outside), "not absolute"),
        ("../outside.csv", "no '..'"),
        ("link.csv", "outside the scenario's folder"),
        ("/proc/self/environ", "not absolute"),
    ):
        with pytest.raises(ScenarioError, match=words) as info:
            load_scenario(_with_trace(inner, trace))
        assert SECRET not in str(info.value)
    with pytest.raises(ScenarioError, match="cannot be set here"):
        load_scenario(_with_trace(inner, "x.csv"), ["workload.trace=y.csv"], trace_from_overrides=False)


def test_a_scenario_from_text_names_only_a_trace_it_was_given(tmp_path):
    text = SCENARIO.replace(
        "workload: {rate_rps: 10}", "workload: {rate_rps: 10, arrivals: trace, trace: day.csv}"
    )
    with pytest.raises(ScenarioError, match="did not come from a file"):
        scenario_from_text(text, "upload.yaml")
    trace = tmp_path / "upload-123.csv"
    trace.write_text("timestamp,rate_rps\n2024-01-01 00:00:00,1\n2024-01-01 01:00:00,2\n")
    scenario = scenario_from_text(text, "upload.yaml", traces={"day.csv": trace})
    assert scenario.workload.trace == str(trace)


def test_trace_errors_name_the_file_never_its_contents(tmp_path):
    path = tmp_path / "t.csv"
    for body in (
        f"{SECRET}\n",
        f"timestamp,{SECRET}\n1,2\n",
        f"timestamp,rate_rps\n{SECRET},1\n",
        "\0" * 100,
    ):
        path.write_text(body)
        with pytest.raises(TraceError) as info:
            read_trace_frame(path)
        assert SECRET not in str(info.value) and "t.csv" in str(info.value)
    path.write_text("timestamp,rate_rps\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,inf\n")
    with pytest.raises(TraceError, match="infinite"):
        read_trace_frame(path)


@pytest.mark.parametrize("scale", [1, 1_000, 1_000_000_000])
def test_epoch_stamps_are_read_in_their_unit(tmp_path, scale):
    """A day of hourly epoch seconds (or ms, or ns) is a day long, not 0.0864 ms."""
    path = tmp_path / "t.csv"
    path.write_text(
        "timestamp,rate_rps\n" + "".join(f"{(1_700_000_000 + 3600 * h) * scale},{1 + h}\n" for h in range(24))
    )
    trace = load_trace(path, peak_rps=10)
    assert trace.period_ms == pytest.approx(24 * 3_600_000)


def test_a_daylight_saving_repeat_is_two_stamps_not_junk():
    from connectors.csv_source import _parse_stamps

    local = pd.Series(
        [
            "2026-11-01 00:30:00",
            "2026-11-01 01:00:00",
            "2026-11-01 01:30:00",
            "2026-11-01 01:00:00",
            "2026-11-01 01:30:00",
            "2026-11-01 02:00:00",
        ]
    )
    stamps = _parse_stamps(local, "America/New_York", "x.csv")
    assert stamps.notna().all() and stamps.is_monotonic_increasing and stamps.is_unique


# ---------------------------------------------------------------- graph work and formulas


def test_traffic_equations_are_sparse_for_ten_thousand_nodes():
    """A dense 10,000 x 10,000 matrix is 800 MB; the sparse system needs a few MB."""
    nodes = {
        f"n{i}": {
            "kind": "service",
            "service_ms": 1,
            "calls": [{"to": f"n{i + 1}", "visits": 0.5}] if i % 100 < 99 else [],
        }
        for i in range(10_000)
    }
    scenario = Scenario.model_validate(_data(nodes))
    _, reads, _ = routing_matrix(scenario)
    assert not isinstance(reads, __import__("numpy").ndarray)
    tracemalloc.start()
    visits = visit_ratios(scenario)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 100_000_000
    assert visits["n0"].visits == 1.0 and visits["n3"].visits == pytest.approx(0.125)


def test_a_long_chain_is_walked_without_recursion(monkeypatch):
    """Graph walks are iterative: a 3,000-node chain validates, and the call-depth bound refuses it cleanly."""
    monkeypatch.setenv("HEADROOM_MAX_NODES", "5000")
    nodes = {
        f"n{i}": {"kind": "service", "service_ms": 1, "calls": [{"to": f"n{i + 1}"}] if i < 2_999 else []}
        for i in range(3_000)
    }
    scenario = Scenario.model_validate(_data(nodes))
    assert find_sync_cycle(scenario) is None
    with pytest.raises(ScenarioError, match="HEADROOM_MAX_CALL_DEPTH"):
        scenario_from_data(_data(nodes), "chain.yaml")


def test_acyclic_walk_and_cyclic_solve_agree_with_the_dense_equations():
    """v = e + R^T v: the walk (no cycle) and the sparse solve (a cycle of async calls) give the dense answer."""
    np = __import__("numpy")
    chain = {
        "a": {
            "kind": "service",
            "service_ms": 1,
            "calls": [{"to": "b", "visits": 2.5}, {"to": "db", "visits": 0.5}],
        },
        "b": {"kind": "service", "service_ms": 1, "calls": [{"to": "db", "visits": 1.5, "op": "write"}]},
        "db": {"kind": "database", "read_ms": 1, "write_ms": 1},
    }
    loop = {
        "a": {"kind": "service", "service_ms": 1, "calls": [{"to": "b", "visits": 1.0}]},
        "b": {
            "kind": "service",
            "service_ms": 1,
            "calls": [
                {"to": "a", "visits": 0.4, "mode": "async"},
                {"to": "db", "visits": 1.0, "op": "write"},
            ],
        },
        "db": {"kind": "database", "read_ms": 1, "write_ms": 1},
    }
    for nodes in (chain, loop):
        data = _data(nodes)
        data["entry"] = "a"
        scenario = Scenario.model_validate(data)
        names, reads, writes = routing_matrix(scenario)
        dense = np.linalg.solve(np.eye(len(names)) - (reads + writes).toarray().T, np.eye(len(names))[0])
        got = visit_ratios(scenario)
        assert [got[n].visits for n in names] == pytest.approx(list(dense))
        assert got["db"].writes == pytest.approx(float((writes.toarray().T @ dense)[names.index("db")]))


def test_feedback_with_a_gain_of_one_is_still_refused():
    nodes = {
        "n0": {"kind": "service", "service_ms": 1, "calls": [{"to": "n1", "mode": "async"}]},
        "n1": {"kind": "service", "service_ms": 1, "calls": [{"to": "n0", "mode": "async"}]},
    }
    with pytest.raises(ScenarioError, match="feed back"):
        scenario_from_text(__import__("yaml").safe_dump(_data(nodes)), "loop.yaml")


def test_erlang_closed_form_agrees_with_the_recursion_and_is_constant_time():
    for servers, load in ((ERLANG_RECURSION_SERVERS + 1, 1_900.0), (3_000, 2_990.0), (2_500, 100.0)):
        blocking = 1.0
        for k in range(1, servers + 1):
            blocking = load * blocking / (k + load * blocking)
        assert erlang_b_closed(servers, load) == pytest.approx(blocking, rel=1e-9)
    done = threading.Event()
    result = []
    worker = threading.Thread(
        target=lambda: (result.append(erlang_c(10**9, 0.999e9)), done.set()), daemon=True
    )
    worker.start()
    assert done.wait(10), "erlang_c for a billion servers did not finish in 10 s"
    assert 0 <= result[0] <= 1 and math.isfinite(result[0])


def test_the_analytic_solver_walks_a_500_node_chain_without_recursion():
    """Past the default bounds (raised on purpose) the solver still works: responses and delay
    spectra are built deepest first, never recursing in the chain's length."""
    from model.queueing.evaluate import evaluate

    nodes = {
        f"n{i}": {
            "kind": "service",
            "replicas": 4,
            "service_ms": 0.01,
            "calls": [{"to": f"n{i + 1}"}] if i < 499 else [],
        }
        for i in range(500)
    }
    results = evaluate(Scenario.model_validate(_data(nodes)), "analytic")
    assert results.latency_ms.p99 > 500 * 0.01 and math.isfinite(results.latency_ms.p99)
