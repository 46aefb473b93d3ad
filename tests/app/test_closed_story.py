"""A closed workload (users, think time) speaks through the one story banner on What-if and Overview:
the same verdict (holds / holds only with autoscaling / breaks) and the same sentence on both, asked
of the users (model.planning.holding), never What-if's own "past the knee" box beside it."""

from __future__ import annotations

from model.planning.holding import holding
from model.scenario.reader import load_scenario
from tests.app.apptools import ROOT, app, no_errors

USERS = ROOT / "scenarios" / "checkout-users.yaml"


def _whatif(users: int | None = None):
    at = app("whatif", params={"scenario": "checkout-users"})
    at.toggle(key="wi-auto-sim").set_value(False).run()
    if users is not None:
        at.slider(key="wi:workload.users").set_value(users).run()
    return at


def _banners(at) -> list[str]:
    return [e.value for kind in (at.error, at.warning, at.info, at.success) for e in kind]


def _sentence(detail: str) -> str:
    return detail[:1].upper() + detail[1:]


def test_150_users_the_hpa_holds_them_on_the_banner():
    at = _whatif()
    no_errors(at)
    h = holding(load_scenario(USERS))
    banners = _banners(at)
    assert [b for b in banners if b.startswith("The HPA would hold web 4 replicas at 150 users (143 req/s).")]
    assert not [b for b in banners if "Past the knee" in b or "SLO missed" in b]
    assert h.verdict == "holds"


def test_300_users_past_the_knee_one_verdict_on_what_if_and_overview():
    at = _whatif(300)
    no_errors(at)
    h = holding(load_scenario(USERS, users=300))
    expected = f"**Holds only with autoscaling.** {_sentence(h.detail())}."
    whatif = [w.value for w in at.warning if w.value.startswith("**Holds only with autoscaling.**")]
    assert len(whatif) == 1 and whatif[0].startswith(expected), whatif
    assert "web from 4 to 8 replicas" in whatif[0] and "past the knee N* = 209 users" in whatif[0]
    assert not [b for b in _banners(at) if b.startswith("**Past the knee.** web is busy")]  # the old box
    at.switch_page("pages/overview.py").run()
    no_errors(at)
    assert [w.value for w in at.warning if w.value.startswith("**Holds")] == [expected]


def test_600_users_break_it_past_the_knee_on_both_pages():
    at = _whatif(600)
    h = holding(load_scenario(USERS, users=600))
    detail = _sentence(h.detail())
    whatif = [e.value for e in at.error]
    assert len(whatif) == 1 and whatif[0].startswith(f"**Past the knee.** {detail}. Add replicas or cores")
    assert "plan for fewer users" in whatif[0] and "Saturated: no steady state" not in whatif[0]
    assert not at.exception
    at.switch_page("pages/overview.py").run()
    assert [e.value for e in at.error] == [
        f"**Past the knee.** {detail}. Add capacity on What-if or see Right-size."
    ]
