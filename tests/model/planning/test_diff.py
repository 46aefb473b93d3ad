"""`diff`: two versions of a scenario evaluated the forecast's way, with the right signs.

The numbers of each side must be the forecast's numbers for the same file and month (the diff
calls the same month evaluation), the changed keys exactly what differs in the files, and the
gates must fail for the reasons they name and only for those.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from model.planning.diff import at_most_replicas, changed_keys, diff
from model.planning.diff_report import MARKER, diff_markdown, diff_text, verdict
from model.planning.forecast import forecast
from model.queueing.offered_load import saturation_rps
from model.scenario.reader import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[3]
THREE_TIER = ROOT / "scenarios" / "three-tier.yaml"
CHECKOUT = ROOT / "scenarios" / "checkout.yaml"


def variant(tmp_path: Path, source: Path, name: str, *replacements: tuple[str, str]) -> str:
    text = source.read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    out = tmp_path / name
    out.write_text(text)
    return str(out)


def test_changed_keys_lists_every_difference_as_written():
    base = "a: 1\nnodes:\n  web: {replicas: 4, calls: [{to: db, visits: 1}]}\n  gone: {x: 1}\n"
    head = "a: 1\nnodes:\n  web: {replicas: 6, calls: [{to: db, visits: 2}]}\n  new: {y: 2}\n"
    changes = {c.path: c for c in changed_keys(base, head)}
    assert set(changes) == {"nodes.web.replicas", "nodes.web.calls.0.visits", "nodes.gone.x", "nodes.new.y"}
    assert (changes["nodes.web.replicas"].before, changes["nodes.web.replicas"].after) == (4, 6)
    assert changes["nodes.gone.x"].removed and changes["nodes.gone.x"].after is None
    assert changes["nodes.new.y"].added and changes["nodes.new.y"].before is None
    assert changed_keys(base, base) == []


def test_identical_files_give_zero_deltas_and_an_unchanged_verdict():
    d = diff(str(THREE_TIER), str(THREE_TIER))
    assert d.changes == []
    delta = d.deltas()
    assert delta["monthly"] == 0 and delta["latency_ms"]["p99"] == 0 and delta["runway_months"] == 0
    assert verdict(d).startswith("p99 unchanged") and "cost unchanged" in verdict(d)
    assert d.gate_failures(check_slo=True, max_p99_increase_pct=0, max_cost_increase=0) == []


def test_each_side_is_the_forecast_month_and_signs_follow_the_change(tmp_path):
    # Fewer web pods: less capacity, more queueing, a smaller bill (fixed replicas, no HPA).
    head = variant(tmp_path, THREE_TIER, "head.yaml", ("replicas: 6", "replicas: 3"))
    d = diff(str(THREE_TIER), head, months=3)
    for side, path in ((d.base, str(THREE_TIER)), (d.head, head)):
        month = forecast(load_scenario(path), months=3).months[3]
        assert side.rate_rps == pytest.approx(month.rate_rps)
        assert side.monthly == pytest.approx(month.monthly)
        assert side.latency_ms["p99"] == pytest.approx(month.p99_ms)
        assert side.slo_met == month.slo_met
        assert side.saturation_rps == pytest.approx(saturation_rps(load_scenario(path)))
    assert [c.path for c in d.changes] == ["nodes.web.replicas"]
    delta = d.deltas()
    assert delta["monthly"] < 0 and delta["latency_ms"]["p99"] > 0 and delta["p99_pct"] > 0
    # web's capacity falls by a third, but the database (one primary) still saturates first
    assert d.head.saturation_rps <= d.base.saturation_rps
    fails = d.gate_failures(max_p99_increase_pct=delta["p99_pct"] / 2)
    assert len(fails) == 1 and "p99 rises" in fails[0]
    assert d.gate_failures(max_p99_increase_pct=delta["p99_pct"] + 1, max_cost_increase=0) == []


def test_a_bigger_database_costs_more_and_the_cost_gate_names_the_rise(tmp_path):
    head = variant(tmp_path, THREE_TIER, "head.yaml", ("read_replicas: 0", "read_replicas: 2"))
    d = diff(str(THREE_TIER), head)
    rise = d.head.monthly - d.base.monthly
    assert rise > 0 and d.head.saturation_rps > d.base.saturation_rps
    assert d.gate_failures(max_cost_increase=rise + 1) == []
    [failure] = d.gate_failures(max_cost_increase=rise - 1)
    assert "monthly bill rises" in failure
    assert (
        d.head.runway_months is None
        or d.base.runway_months is None
        or d.head.runway_months >= d.base.runway_months
    )


def test_a_saturated_head_misses_its_slo_and_the_verdict_says_so(tmp_path):
    head = variant(tmp_path, THREE_TIER, "head.yaml", ("rate_rps: 120", "rate_rps: 400"))
    d = diff(str(THREE_TIER), head)
    assert not d.head.slo_met and not math.isfinite(d.head.latency_ms["p99"])
    assert "unbounded" in verdict(d) and "MISSED" in verdict(d)
    [failure] = d.gate_failures(check_slo=True)
    assert failure.startswith("HEAD misses its SLO")
    # an unbounded p99 fails a p99 gate too, even though no percentage can be computed
    assert any("without bound" in f for f in d.gate_failures(max_p99_increase_pct=1000))


def test_autoscaled_saturation_uses_the_hpa_maximum(tmp_path):
    head = variant(tmp_path, CHECKOUT, "head.yaml", ("max: 10", "max: 5"))
    d = diff(str(CHECKOUT), head)
    assert d.autoscaled
    assert d.base.saturation_rps == pytest.approx(
        saturation_rps(at_most_replicas(load_scenario(str(CHECKOUT))))
    )
    assert d.head.saturation_rps < d.base.saturation_rps
    assert "HPA at max" in diff_text(d)


def test_markdown_leads_with_the_verdict_and_keeps_the_table_intact(tmp_path):
    head = variant(
        tmp_path,
        THREE_TIER,
        "head.yaml",
        ("replicas: 6", "replicas: 3"),
        ("name: Storefront (three tier)", "name: 'Store | front'"),
    )
    d = diff(str(THREE_TIER), head)
    text = diff_markdown(d)
    lines = text.splitlines()
    assert lines[0] == MARKER
    assert lines[1].startswith("**Headroom: SLO") and "p99 +" in lines[1] and "cost -$" in lines[1]
    pipes = [len(re.findall(r"(?<!\\)\|", line)) for line in lines if line.startswith("|")]
    split = sum(
        1 for line in lines[: lines.index("| changed key | before | after |")] if line.startswith("|")
    )
    # 4 columns in the numbers, 3 in the changed keys: the escaped pipe in the name adds none
    assert pipes[:split] == [5] * split and pipes[split:] == [4] * (len(pipes) - split)
    assert "<details>" in text and "`nodes.web.replicas`" in text and "Store \\| front" in text


def test_a_bad_git_side_is_invalid_input_naming_it():
    with pytest.raises(ScenarioError, match="git:"):
        diff("git:no-such-ref-anywhere:scenarios/three-tier.yaml", str(THREE_TIER))
    with pytest.raises(ScenarioError, match="expected git:REF:PATH"):
        diff("git:HEAD", str(THREE_TIER))


def test_an_estimated_price_is_marked_beside_the_bill(tmp_path):
    head = variant(
        tmp_path,
        THREE_TIER,
        "head.yaml",
        ("type: m6i.large}", "type: m6i.24xlarge}"),
        ("    concurrency: 16", "    cpus: 2\n    concurrency: 16"),
    )
    d = diff(str(THREE_TIER), head)
    assert d.base.cost_caveat == "" and "m6i.24xlarge estimated from" in d.head.cost_caveat
    assert "(estimated)" in diff_text(d) and "HEAD cost: web's m6i.24xlarge estimated" in diff_markdown(d)
    assert (
        d.head.to_json()["cost"]["caveat"] == d.head.cost_caveat
        and d.base.to_json()["cost"]["caveat"] is None
    )
