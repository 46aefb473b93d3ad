"""Compare's diff: two scenarios (or one and its what-if changes) as `python cli.py diff` shows them.

The numbers come from `model.planning.diff.diff_scenarios`, the function the command line calls, so the
table here and a pull-request comment made in CI agree for the same two files.
"""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd
import streamlit as st

from streamlit_ui.scenarios import ScenarioText, applied_text
from model.planning.diff import Diff, SideInput, diff_scenarios
from model.planning.diff_report import comparison_rows, diff_markdown, verdict


def side_input(label: str, st_text: ScenarioText, changes: dict[str, Any], scenario) -> SideInput:
    """A side as the diff reads it: the YAML a user would save (changes written in) and its scenario."""
    return SideInput(label, applied_text(st_text.text, changes), scenario)


@st.cache_data(max_entries=64, show_spinner=False)
def _diff(
    base_label: str,
    base_text: str,
    base_json: str,
    head_label: str,
    head_text: str,
    head_json: str,
    months: int,
) -> Diff:
    from model.scenario.schema import Scenario

    def side(label: str, text: str, scenario_json: str) -> SideInput:
        return SideInput(label, text, Scenario.model_validate_json(scenario_json))

    return diff_scenarios(
        side(base_label, base_text, base_json), side(head_label, head_text, head_json), months
    )


def section(
    labels: list[str], resolve: Callable[[str], SideInput], base_default: str, head_default: str
) -> None:
    """Pick BASE and HEAD, see the diff, copy the Markdown for a pull request."""
    st.subheader("What a change does")
    st.caption(
        "Two scenarios side by side at the planning load, as `python cli.py diff BASE HEAD` prints them "
        "(analytic; autoscaled nodes at the replicas their HPA holds)."
    )
    left, mid, right = st.columns([2, 2, 1])
    base_label = left.selectbox("Base", labels, index=labels.index(base_default), key="diff-base")
    head_label = mid.selectbox("Head", labels, index=labels.index(head_default), key="diff-head")
    months = right.number_input(
        "Months ahead", min_value=0, max_value=120, value=0, step=1, key="diff-months"
    )
    try:
        base, head = resolve(base_label), resolve(head_label)
    except Exception as exc:  # a scenario that no longer validates: say which, keep the page
        st.error(f"Cannot diff: {exc}", icon=":material/error:")
        return
    with st.spinner("Solving both sides…"):
        d = _diff(
            base.label,
            base.text,
            base.scenario.model_dump_json(),
            head.label,
            head.text,
            head.scenario.model_dump_json(),
            int(months),
        )
    (st.success if d.head.slo_met else st.error)(verdict(d, "→"), icon=":material/compare_arrows:")
    st.dataframe(
        pd.DataFrame(comparison_rows(d), columns=["", "base", "head", "change"]),
        hide_index=True,
        width="stretch",
    )
    if d.changes:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "changed key": c.path,
                        "before": "(absent)" if c.added else str(c.before),
                        "after": "(absent)" if c.removed else str(c.after),
                    }
                    for c in d.changes
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("No key differs between the two.")
    with st.expander("Markdown for a pull request comment"):
        st.code(diff_markdown(d), language="markdown")
