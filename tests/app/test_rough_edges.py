"""Issue 14's rough edges that AppTest can see: upload messages, the data source, saturation, diffs, labels."""

from __future__ import annotations

from streamlit_ui import state
from tests.app.apptools import ROOT, app, no_errors

CHECKOUT = (ROOT / "scenarios" / "checkout.yaml").read_text(encoding="utf-8")


def _upload_scenario(at, name: str, text: str):
    at.get("file_uploader")[0].set_value((name, text.encode(), "application/x-yaml")).run()
    return at


def _sidebar_captions(at) -> str:
    return "\n".join(c.value for c in at.sidebar.caption)


def test_a_valid_upload_changes_the_sidebar_data_source():
    at = app()
    assert "scenarios/checkout.yaml" in _sidebar_captions(at)
    _upload_scenario(at, "shop.yaml", CHECKOUT.replace("name: Checkout API", "name: Shop"))
    no_errors(at)
    assert at.session_state[state.SCENARIO].name == "shop"
    captions = _sidebar_captions(at)
    assert "shop.yaml (uploaded)" in captions and "checkout.yaml" not in captions


def test_a_misspelt_key_in_an_upload_names_the_unknown_key_first():
    at = _upload_scenario(app(), "typo.yaml", CHECKOUT.replace("service_ms: 40", "servce_ms: 40"))
    assert not at.exception
    message = at.sidebar.error[0].value
    assert (
        message.index("servce_ms") < message.index("did you mean 'service_ms'") < message.index("is required")
    )
    assert at.session_state[state.SCENARIO].name == "checkout"  # the open scenario is unchanged


def _simulated(at, timeout_s: float = 120):
    import time

    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        at.run()
        if any("simulat" in c.value.lower() and "seed" in c.value for c in at.caption):
            return at
    raise AssertionError("the simulation did not finish")


def test_a_saturated_whatif_says_so_plainly():
    at = app("whatif")
    at.session_state[state.CHANGES] = {"workload.rate_rps": 2000.0}
    _simulated(at)
    assert not at.exception
    latency = [m for m in at.metric if m.label.endswith("latency")]
    assert [(m.value, m.delta) for m in latency] == [("saturated", "no steady state")] * 3
    cost = next(m for m in at.metric if m.label == "Cost this month")
    assert "$0.00" not in (cost.delta or "")
    captions = " ".join(c.value for c in at.caption)
    assert "Simulated 0 requests" not in captions and "served none of the requests" in captions
    assert "no steady state" in at.error[0].value
    assert len(at.get("vega_lite_chart")) == 1  # the latency curve, not an empty percentile chart
    served = at.dataframe[0].value.set_index("")
    assert "unbounded" not in served.to_string() and served.loc["served", "simulation"] == "none (saturated)"


def test_one_server_is_singular():
    from streamlit_ui.views import plural

    assert plural(1, "server") == "1 server" and plural(4, "server") == "4 servers"
    at = app()
    dot = at.get("graphviz_chart")[0].proto.spec
    assert "· 1 server\\n" in dot and " 1 servers" not in dot


def test_a_changed_line_loses_its_provenance_comment_and_others_keep_theirs():
    from streamlit_ui.scenarios import applied_text

    fitted = (
        "nodes:\n  web:\n    kind: service\n    replicas: 4                    # given: fit file\n"
        "    cpus: 2                        # given: fit file\n    service_ms: 40   # our p50 budget\n"
        "    instance: {provider: aws, type: m6i.large}  # given: fit file\n"
    )
    out = applied_text(
        fitted, {"nodes.web.replicas": 6, "nodes.web.instance.type": "m6i.xlarge", "nodes.web.service_ms": 30}
    )
    lines = out.splitlines()
    assert "    replicas: 6" in lines and "    instance: {provider: aws, type: m6i.xlarge}" in lines
    assert "    cpus: 2                        # given: fit file" in lines  # unchanged: still true
    assert "    service_ms: 30  # our p50 budget" in lines  # the user's own comment stays


def _node_scales(at) -> list[dict[str, str]]:
    """node -> colour of every chart colour scale on the page that names nodes."""
    import json

    found = []

    def walk(item):
        if isinstance(item, dict):
            scale = item.get("scale")
            if isinstance(scale, dict) and "web" in (scale.get("domain") or []) and scale.get("range"):
                found.append(dict(zip(scale["domain"], scale["range"])))
            for value in item.values():
                walk(value)
        elif isinstance(item, list):
            for value in item:
                walk(value)

    for chart in at.get("vega_lite_chart"):
        walk(json.loads(chart.proto.spec))
    return found


def test_cost_and_compare_give_each_node_one_colour():
    at = app("cost")
    cost = _node_scales(at)
    at.switch_page("pages/compare.py").run()
    at.multiselect(key="cmp-pick").select(
        "kafka-consumers.yaml"
    ).run()  # another system's nodes join the legend
    no_errors(at)
    compare = _node_scales(at)
    assert cost and compare
    for node in ("web", "cache", "db", "orders"):
        assert cost[0][node] == compare[0][node]
    assert len(set(compare[0].values())) == len(compare[0])  # no two nodes share a colour


def test_compare_defaults_to_variants_of_the_open_system():
    at = app("compare")
    no_errors(at)
    assert at.multiselect(key="cmp-pick").value == ["checkout.yaml"]
    at = app("whatif")
    at.session_state[state.CHANGES] = {"nodes.web.replicas": 6}
    at.switch_page("pages/compare.py").run()
    assert at.multiselect(key="cmp-pick").value == ["checkout.yaml", "current, with what-if changes"]
    assert "**checkout.yaml**" in at.success[0].value  # the cheaper variant, never an unrelated system
