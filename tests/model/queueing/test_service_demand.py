"""miss_ms and worker_usl (issue 11): the CPU per visit both solvers see, against the utilization law."""

from __future__ import annotations

import pytest

from model.scenario.reader import ScenarioError, scenario_from_data
from model.queueing.evaluate import evaluate


def scenario(**web) -> dict:
    return {
        "version": 1,
        "name": "t",
        "workload": {"rate_rps": 50},
        "entry": "web",
        "nodes": {
            "web": {
                "kind": "service",
                "cpus": 1,
                "service_ms": 5.0,
                "calls": [{"to": "cache", "visits": 2}],
                **web,
            },
            "cache": {"kind": "cache", "hit_ratio": 0.75, "hit_ms": 0.5, "miss": "db"},
            "db": {"kind": "database", "read_ms": 2.0},
        },
    }


@pytest.mark.parametrize("method", ["analytic", "sim"])
def test_miss_cost_adds_to_the_callers_cpu(method):
    base = evaluate(scenario_from_data(scenario(), "t"), method, rate_rps=50, seed=1, requests=20_000)
    dear = evaluate(
        scenario_from_data(scenario(miss_ms=2.0), "t"), method, rate_rps=50, seed=1, requests=20_000
    )
    # 2 cache reads per visit at 25 % misses: 0.5 misses, 1 ms more CPU per visit; U = X * D
    assert base.nodes["web"].utilization == pytest.approx(50 * 0.005, rel=0.05)
    assert dear.nodes["web"].utilization == pytest.approx(50 * 0.006, rel=0.05)
    low = scenario(miss_ms=2.0)
    low["nodes"]["cache"]["hit_ratio"] = 0.5
    lower_hits = evaluate(scenario_from_data(low, "t"), "analytic", rate_rps=50)
    assert lower_hits.nodes["web"].utilization == pytest.approx(50 * 0.007, rel=1e-6)


def test_worker_overhead_scales_cpu_with_concurrency():
    usl = {"sigma": 0.05, "kappa": 0.002, "workers": 2}
    at2 = evaluate(scenario_from_data(scenario(concurrency=2, worker_usl=usl), "t"), "analytic", rate_rps=50)
    at8 = evaluate(scenario_from_data(scenario(concurrency=8, worker_usl=usl), "t"), "analytic", rate_rps=50)
    g = lambda n: 1 + 0.05 * (n - 1) + 0.002 * n * (n - 1)  # noqa: E731
    assert at2.nodes["web"].utilization == pytest.approx(50 * 0.005, rel=1e-6)
    assert at8.nodes["web"].utilization == pytest.approx(50 * 0.005 * g(8) / g(2), rel=1e-6)
    assert at8.latency_ms.mean > at2.latency_ms.mean
    plain = evaluate(scenario_from_data(scenario(worker_usl=usl), "t"), "analytic", rate_rps=50)
    assert plain.nodes["web"].utilization == pytest.approx(
        50 * 0.005, rel=1e-6
    )  # no concurrency: no workers to scale


def test_new_keys_are_checked():
    with pytest.raises(ScenarioError, match=r"nodes.web.host.*'box' is not in hosts"):
        scenario_from_data(scenario(host="box"), "t")
    with pytest.raises(ScenarioError, match=r"nodes.web.worker_usl.sigma"):
        scenario_from_data(scenario(worker_usl={"sigma": 2, "workers": 2}), "t")
    with_host = scenario(host="box")
    with_host["nodes"]["web"].pop("cpus", None)  # a node on a host runs on the host's cores
    with_host["hosts"] = {"box": {"cpus": 1}}
    assert scenario_from_data(with_host, "t").hosts["box"].cpus == 1
