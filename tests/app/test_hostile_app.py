"""Hostile links and uploads against the app (AppTest): no secret or file leaks, prompt friendly refusals.

The server's environment holds a canary secret; every case checks that no page output
contains it, that no traceback reached the page, and that a refusal says what was wrong.
"""

from __future__ import annotations

import base64
import re
import zlib

import pytest

from streamlit_ui.views import md
from tests.app.apptools import app

CANARY = "CANARY-7f3a9c-not-a-real-secret"


@pytest.fixture(autouse=True)
def _canary(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", CANARY)
    secret = tmp_path / "secret.csv"
    secret.write_text(f"timestamp,rate_rps\n{CANARY},1\n", encoding="utf-8")
    return secret


def _packed(text: str | bytes) -> str:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii")


def _everything(at) -> str:
    """Every element the page sent, as text (bodies, labels, captions, code, charts' specs)."""

    def walk(node) -> list[str]:
        out = [str(getattr(node, "proto", "") or "")]
        for child in (getattr(node, "children", None) or {}).values():
            out += walk(child)
        return out

    return "\n".join(walk(at._tree))


def _clean(at) -> str:
    text = _everything(at)
    assert CANARY not in text, "the canary secret reached the page"
    assert not at.exception, [e.value for e in at.exception]
    return text


DEMO_YAML = open("scenarios/checkout.yaml", encoding="utf-8").read()
LAUGHS = (
    "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


def _trace_sets(path: str) -> list[str]:
    return ['workload.arrivals="trace"', f'workload.trace="{path}"']


def test_a_trace_link_to_proc_self_environ_is_refused_without_reading_it():
    at = app("overview", {"scenario": "checkout", "set": _trace_sets("/proc/self/environ")})
    text = _clean(at)
    assert "cannot name a file on the server" in text
    assert not at.error  # the changes were dropped: the demo opened, with the notice saying why


@pytest.mark.parametrize(
    "sets",
    [
        lambda p: _trace_sets(p),
        lambda p: ['workload={"arrivals": "trace", "trace": "%s", "rate_rps": 1}' % p],
        lambda p: [f'workload.trace="{p}"'],
    ],
)
def test_no_set_link_can_name_a_trace_file(_canary, sets):
    at = app(None, {"scenario": "checkout", "set": sets(str(_canary))})  # the notice shows on the first page
    assert "cannot name a file on the server" in _clean(at)
    assert "workload.trace" not in str(at.session_state["changes"])


def test_a_yaml_link_with_a_trace_is_refused(_canary):
    text = DEMO_YAML.replace("arrivals: poisson", "arrivals: trace").replace(
        "trace: null", f"trace: {_canary}"
    )
    at = app("overview", {"yaml": _packed(text), "name": "x"})
    page = _clean(at)
    assert "cannot name a file on the server" in page and at.error  # the scenario itself is refused


def test_a_billion_laughs_link_is_refused_before_it_expands():
    at = app("overview", {"yaml": _packed(LAUGHS), "name": "laughs"}, timeout=60)
    page = _clean(at)
    assert "expands to more than" in page


def test_a_billion_laughs_in_a_set_value_is_ignored_with_a_notice():
    levels = ["a: &a [x,x,x,x,x,x,x,x,x]"] + [
        f"{n}: &{n} [" + ",".join([f"*{p}"] * 9) + "]" for p, n in zip("abcdefgh", "bcdefghi")
    ]
    bomb = "{" + ", ".join(levels) + "}"  # one line, 9^9 values once expanded
    at = app(None, {"scenario": "checkout", "set": ["name=" + bomb]}, timeout=60)
    page = _clean(at)
    assert "Ignored the link" in page and "expands to more than" in page
    assert at.session_state["changes"] == {}


def test_a_zip_bomb_link_stops_at_the_size_cap():
    at = app("overview", {"yaml": _packed(b"#" * 40_000_000), "name": "bomb"}, timeout=60)
    assert "larger than 1 MB" in _clean(at)


def test_a_ten_thousand_node_link_is_refused_before_any_solver_runs():
    nodes = "\n".join(
        f"  n{k}: {{kind: service, service_ms: 1, calls: [{{to: n{k + 1}}}]}}" for k in range(9_999)
    )
    text = (
        DEMO_YAML.split("nodes:")[0].replace("entry: web", "entry: n0")
        + "nodes:\n"
        + nodes
        + "\n  n9999: {kind: service, service_ms: 1}\n"
    )
    at = app("overview", {"yaml": _packed(text), "name": "wide"}, timeout=60)
    page = _clean(at)
    assert at.error and ("nodes" in page or "YAML values" in page)


def test_uploads_are_capped_and_cannot_name_a_trace(_canary):
    at = app("overview")
    text = DEMO_YAML.replace("arrivals: poisson", "arrivals: trace").replace(
        "trace: null", f"trace: {_canary}"
    )
    at.sidebar.file_uploader(key="sb:upload").upload("traced.yaml", text.encode(), "application/x-yaml").run()
    page = _clean(at)
    assert "cannot name a file on the server" in page
    big = DEMO_YAML + "#" * 1_100_000 + "\n"
    at.sidebar.file_uploader(key="sb:upload").upload("big.yaml", big.encode(), "application/x-yaml").run()
    assert "up to 1 MB" in _clean(at)


def test_to_folder_never_replaces_a_shipped_scenario(_scenarios_dir):
    before = (_scenarios_dir / "fit-demo.yaml").read_bytes()
    at = app("overview")
    at.sidebar.text_input(key="sb:save_name").input("fit-demo").run()
    at.sidebar.button(key="sb:to_folder").click().run()
    assert "already exists" in _clean(at)
    assert (_scenarios_dir / "fit-demo.yaml").read_bytes() == before
    at.sidebar.text_input(key="sb:save_name").input("x" * 300).run()
    at.sidebar.button(key="sb:to_folder").click().run()
    assert "at most 64" in _clean(at)
    at.sidebar.text_input(key="sb:save_name").input("my-copy").run()
    at.sidebar.button(key="sb:to_folder").click().run()
    _clean(at)
    assert any(md("Saved to my-copy.yaml") in i.value for i in at.sidebar.info), [
        i.value for i in at.sidebar.info
    ]
    assert (_scenarios_dir / "my-copy.yaml").read_text(encoding="utf-8") == DEMO_YAML
    assert not list(_scenarios_dir.glob(".*.tmp"))


def test_to_folder_can_be_turned_off(monkeypatch, _scenarios_dir):
    monkeypatch.setenv("HEADROOM_SAVE_TO_FOLDER", "0")
    at = app("overview")
    assert at.sidebar.button(key="sb:to_folder").disabled
    from streamlit_ui.folder_save import SaveRefused, save_new

    with pytest.raises(SaveRefused, match="turned off"):
        save_new(_scenarios_dir, "another", DEMO_YAML)


def test_a_quote_in_a_node_name_keeps_the_graph_and_a_description_image_stays_text():
    description = next(line for line in DEMO_YAML.splitlines() if line.startswith("description:"))
    text = (
        DEMO_YAML.replace("entry: web", 'entry: "we\\"b"')
        .replace("\n  web:\n", '\n  "we\\"b":\n')
        .replace(description, "description: '![pixel](http://example.invalid/p.png) Checkout'")
    )
    at = app("overview", {"yaml": _packed(text), "name": "quoted"})
    _clean(at)
    assert not at.error, [e.value for e in at.error]
    from streamlit_ui.views import graph_dot
    from model.scenario.reader import scenario_from_text
    from model.queueing.evaluate import evaluate

    scenario = scenario_from_text(text, "quoted")
    source = graph_dot(scenario, evaluate(scenario, "analytic"), "db")
    for line in source.splitlines():  # every DOT string closes on its line: quotes inside names are escaped
        assert len(re.findall(r'(?<!\\)"', line)) % 2 == 0, line
    assert '"we\\"b"' in source
    captions = [c.value for c in at.caption]
    assert any("\\!\\[pixel\\]" in c for c in captions), captions  # shown as text, never as an image
    assert not any("![" in c for c in captions)  # no unescaped image syntax reached the page


def test_the_observe_page_takes_no_endpoint_from_the_browser(monkeypatch):
    at = app("observe")
    at.segmented_control(key="obs-source").set_value("cloudwatch").run()
    assert not [t for t in at.text_input if "ndpoint" in t.label]
    monkeypatch.setenv("HEADROOM_ALLOW_LOOPBACK_ENDPOINT", "1")
    at = app("observe")
    at.segmented_control(key="obs-source").set_value("cloudwatch").run()
    at.segmented_control(key="obs-source").set_value("cloudwatch")  # AppTest resends every widget's value
    at.text_input(key="obs-cloudwatch-endpoint").input("http://attacker.example:5000").run()
    assert "Only a loopback endpoint" in _clean(at)


def test_a_simulation_over_the_time_limit_is_stopped_with_the_limit_shown(monkeypatch, _scenarios_dir):
    from streamlit_ui import cached, run_pool as runs

    text = DEMO_YAML.replace("{to: cache, visits: 1.0}", "{to: cache, visits: 400.0}")
    (_scenarios_dir / "checkout.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(runs, "JOB_LIMIT_S", 2.0)
    cached.pool.clear()
    try:
        at = app("whatif", timeout=120)
        page = _clean(at)
        assert "stopped after 2 s" in page
    finally:
        runs.shutdown_all()
        cached.pool.clear()


def test_an_uploaded_csv_folder_goes_with_its_session_or_its_age(tmp_path):
    import gc
    import os
    import time

    from streamlit_ui import uploads

    holder = uploads.UploadFolder()
    path = holder.write("metrics.csv", b"timestamp,traffic\n2025-01-01T00:00:00Z,1\n")
    assert path.read_bytes().startswith(b"timestamp")
    folder = path.parent
    del holder  # what Streamlit does with a closed session's state
    gc.collect()
    assert not folder.exists()
    stale = tmp_path / f"{uploads.PREFIX}old"
    stale.mkdir()
    (stale / "x.csv").write_text("t\n")
    for p in (stale / "x.csv", stale):
        os.utime(p, (time.time() - 7 * 3600, time.time() - 7 * 3600))
    fresh = tmp_path / f"{uploads.PREFIX}new"
    fresh.mkdir()
    assert uploads.prune_stale(root=tmp_path) == 1 and not stale.exists() and fresh.exists()


def test_a_trace_hidden_behind_a_merge_key_is_found():
    from streamlit_ui import guard
    from model.scenario.reader import ScenarioError

    hidden = "base: &base {arrivals: trace, trace: /proc/self/environ}\n" + DEMO_YAML.replace(
        "workload:\n", "workload:\n  <<: *base\n"
    ).replace("  arrivals: poisson\n", "").replace("  trace: null\n", "")
    guard.check_yaml(hidden, "hidden.yaml")
    with pytest.raises(ScenarioError, match="cannot name a file on the server"):
        guard.check_no_trace(hidden, "hidden.yaml")
    guard.check_no_trace(DEMO_YAML, "checkout.yaml")  # the demo's `trace: null` is no trace
