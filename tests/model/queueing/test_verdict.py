"""The SLO verdict alone (model.queueing.analytic.verdict) is the full analytic solve's `slo.met` and
bottleneck, at every load from idle to far past saturation, with and without Kafka, timeouts and SLOs."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.queueing.offered_load import offered_rps
from model.queueing.evaluate import evaluate, slo_verdict
from model.queueing.results import bottleneck
from model.scenario.reader import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2].parent
SCENARIOS = []
for path in sorted((ROOT / "scenarios").glob("*.yaml")):
    try:
        load_scenario(path)
    except ScenarioError:  # a fit file
        continue
    SCENARIOS.append(path)

CHANGES = {
    "as written": [],
    "entry timeout": ["nodes.ENTRY.timeout_ms=TIMEOUT"],  # near the p95: some requests time out
    "errors only": ["slo.p50_ms=null", "slo.p95_ms=null", "slo.p99_ms=null"],
    "no SLO": ["slo.p50_ms=null", "slo.p95_ms=null", "slo.p99_ms=null", "slo.max_error_pct=null"],
}


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_the_verdict_is_the_full_solves(path, change):
    changes = CHANGES[change]
    if change == "entry timeout":
        base = load_scenario(path)
        if base.nodes[base.entry].kind != "service":
            pytest.skip(f"{path.stem}'s entry is not a service")
        timeout = round(evaluate(base, "analytic").latency_ms.p95, 3)
        changes = [c.replace("ENTRY", base.entry).replace("TIMEOUT", str(timeout)) for c in changes]
    scenario = load_scenario(path, changes)
    saw_missed = saw_saturated = False
    for factor in (0.05, 0.5, 0.9, 1.0, 1.2, 1.5, 2.5, 6.0):
        rate = (
            scenario.workload.rate_rps or offered_rps(scenario)
        ) * factor  # closed: open at its throughput
        full = evaluate(scenario, "analytic", rate_rps=rate)
        expected = (full.slo.met, None if full.slo.met else bottleneck(full))
        assert slo_verdict(scenario, rate) == expected, (factor, full.slo.violations)
        saw_missed |= not full.slo.met
        saw_saturated |= bool(full.saturated)
    assert saw_saturated  # the shortcut for saturated loads was exercised
    assert saw_missed == (change != "no SLO")


def test_a_saturated_consumer_group_misses_the_slo_without_its_drops():
    """Past its consumers' capacity the Kafka node is named first, as the full solve names it."""
    scenario = load_scenario(ROOT / "scenarios" / "kafka-consumers.yaml")
    rate = 20 * scenario.workload.rate_rps
    full = evaluate(scenario, "analytic", rate_rps=rate)
    kafka = [n for n in full.saturated if scenario.nodes[n].kind == "kafka"]
    assert kafka and not full.slo.met
    assert slo_verdict(scenario, rate) == (False, full.saturated[0])
