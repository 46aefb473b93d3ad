"""The Cost page's controls in the link: a round trip, defaults left out, hostile values refused one by one."""

from __future__ import annotations

import pytest

from streamlit_ui import cost_link
from streamlit_ui.cost_link import CostSettings, decode, encode


def _params(settings: CostSettings) -> dict[str, list[str]]:
    return {k: [v] for k, v in encode(settings).items()}


def test_every_control_survives_the_round_trip():
    settings = CostSettings(
        commitment="3yr", horizon=36, budget=2150.5, growth=-2.25, baseline=(("db", 1), ("web", 2))
    )
    back, problems = decode(_params(settings))
    assert back == settings and problems == []


def test_defaults_stay_out_of_the_link_and_numbers_carry_no_float_noise():
    assert encode(CostSettings()) == {}
    assert encode(CostSettings(budget=129.60000000000002, horizon=12)) == {
        "cost_budget": "129.6",
        "cost_horizon": "12",
    }
    assert encode(CostSettings(budget=0.0)) == {"cost_budget": "0"}  # 0 is "no budget", not the default


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("cost_horizon", "0"),
        ("cost_horizon", "121"),
        ("cost_horizon", "12.5"),
        ("cost_horizon", "1e2"),
        ("cost_budget", "nan"),
        ("cost_budget", "inf"),
        ("cost_budget", "-1"),
        ("cost_budget", "1" * 5000),
        ("cost_budget", "2000<script>"),
        ("cost_growth", "-99"),
        ("cost_growth", "0x10"),
        ("cost_baseline", "1e308"),
        ("cost_baseline", '{"web": 2.5}'),
        ("cost_baseline", '{"web": -1}'),
        ("cost_baseline", '{"web": true}'),
        ("cost_baseline", '{"web": 100001}'),
        ("cost_baseline", "[" * 100_000),
        ("cost_baseline", "{" + ",".join(f'"n{k}": 1' for k in range(300)) + "}"),
        ("cost_commitment", "5yr"),
        ("cost_commitment", "ON_DEMAND"),
    ],
)
def test_a_bad_value_is_dropped_with_a_message_and_the_rest_still_opens(key, raw):
    good = {"cost_horizon": ["24"]} if key == "cost_commitment" else {"cost_commitment": ["1yr"]}
    settings, problems = decode({key: [raw], **good})
    assert getattr(settings, key.removeprefix("cost_")) is None
    assert len(problems) == 1 and key in problems[0] and "expected" in problems[0]
    assert len(problems[0]) < 400  # a long value is echoed cut short
    assert (
        settings == CostSettings(horizon=24) if key == "cost_commitment" else CostSettings(commitment="1yr")
    )


def test_a_baseline_naming_nodes_the_scenario_lacks_keeps_only_its_own():
    settings, problems = decode({"cost_baseline": ['{"web": 3, "ghost": 9}']})
    assert problems == [] and settings.baseline_units(["web", "db"]) == {"web": 3}


def test_the_last_value_of_a_repeated_key_wins_and_unknown_keys_are_ignored():
    settings, problems = decode({"cost_horizon": ["6", "24"], "cost_colour": ["red"]})
    assert settings == CostSettings(horizon=24) and problems == []
    assert cost_link.is_cost_key("cost_budget") and not cost_link.is_cost_key("cost_colour")
