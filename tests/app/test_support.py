"""The app's scenario text and URL helpers (the fit file, incidents and spend are tested under tests/model)."""

from __future__ import annotations

import yaml

from streamlit_ui.scenarios import (
    ScenarioText,
    applied_text,
    decode_query,
    encode_query,
    read_folder_scenario,
)
from model.scenario.reader import apply_override

CHANGES = {
    "nodes.web.replicas": 6,
    "nodes.web.instance.type": "m6i.xlarge",
    "nodes.cache.hit_ratio": 0.9,
    "workload.rate_rps": 150.0,
    "nodes.web.autoscale.max": 12,
}


def test_applied_text_is_the_override_and_keeps_comments():
    text = read_folder_scenario("checkout").text
    out = applied_text(text, CHANGES)
    data = yaml.safe_load(text)
    for path, value in CHANGES.items():
        apply_override(data, path, value)
    assert yaml.safe_load(out) == data
    assert out.splitlines()[0].startswith("#")  # edited in place, comments kept
    assert sum(a != b for a, b in zip(text.splitlines(), out.splitlines())) == len(CHANGES)


def test_url_round_trip_for_a_folder_file_and_an_upload():
    for st_text in (
        read_folder_scenario("checkout"),
        ScenarioText("mine", read_folder_scenario("three-tier").text, "upload"),
    ):
        params = {k: (v if isinstance(v, list) else [v]) for k, v in encode_query(st_text, CHANGES).items()}
        back, changes, problem = decode_query(params)
        assert problem is None and back == st_text and changes == CHANGES
