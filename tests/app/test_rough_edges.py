"""Issue 14's rough edges that AppTest can see: upload messages, the data source, saturation, diffs, labels."""

from __future__ import annotations

from app_support import state
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
    assert message.index("servce_ms") < message.index("did you mean 'service_ms'") < message.index("is required")
    assert at.session_state[state.SCENARIO].name == "checkout"  # the open scenario is unchanged
