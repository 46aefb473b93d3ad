"""Drawing the fit on the Calibrate page: values, load, validation, backtest, warnings, and errors."""

from __future__ import annotations

import streamlit as st

from streamlit_ui import charts, fitting

VERDICT_COLOURS = {"good": "#cdebd3", "fair": "#fff1b8", "poor": "#ffb3ad"}
HOW_COLOURS = {"fitted": "#dbeafe", "given": "#f3f4f6", "assumed": "#fde68a"}


def fit_error(exc: Exception) -> None:
    """FitFileError, FitError and ConnectorError as one message with what to do next; anything else briefly."""
    from connectors.errors import ConnectorError
    from model.fit.file import FitFileError
    from model.fit.errors import FitError

    if isinstance(exc, FitFileError):
        st.error(
            f"**The fit file is invalid**: {exc}\n\nFix the mapping on Observe (or the file) and come back.",
            icon=":material/error:",
        )
    elif isinstance(exc, ConnectorError):
        from streamlit_ui.views import connector_error

        connector_error(exc)
    elif isinstance(exc, FitError):
        st.error(
            f"**The metrics cannot be fitted**: {exc}\n\nOn Observe, map a CPU metric to each node and the "
            "traffic at the entry, or look back over more days.",
            icon=":material/error:",
        )
    else:
        st.error(f"The fit failed: {exc.__class__.__name__}: {str(exc)[:300]}", icon=":material/error:")


def _colour(mapping: dict[str, str]):
    return lambda value: f"background-color: {mapping[value]}" if value in mapping else ""


def values(report: dict) -> None:
    st.subheader("Fitted values")
    st.caption(
        "Each value is **fitted** (from the metrics, with its 95% interval and the regression's R²), "
        "**given** (in the fit file) or **assumed** (the metrics cannot tell: check it)."
    )
    table = fitting.values_table(report)
    st.dataframe(
        table.style.map(_colour(HOW_COLOURS), subset=["how"]),
        hide_index=True,
        width="stretch",
        height=35 * (len(table) + 1) + 3,
        column_config={
            "R²": st.column_config.TextColumn(width="small"),
            "unit": st.column_config.TextColumn(width="small"),
            "how": st.column_config.TextColumn(width="small"),
            "from": st.column_config.TextColumn(width="large"),
        },
    )


def load(report: dict) -> None:
    lines = fitting.load_lines(report)
    k1, k2, k3 = st.columns(3)
    k1.metric(
        "Planning load (peak)",
        lines["peak"],
        lines["peak_note"],
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=lines["peak_help"],
    )
    k2.metric(
        "Growth per month",
        lines["growth"],
        lines["growth_note"],
        delta_color="off",
        delta_arrow="off",
        border=True,
        help=lines["growth_help"],
    )
    k3.metric(
        "Mean load",
        lines["mean"],
        f"highest {lines['max']}",
        delta_color="off",
        delta_arrow="off",
        border=True,
    )


def checks(rows: list[dict], notes: list[str], title: str, key: str) -> None:
    """A validation (or backtest) as a table and as observed-against-predicted bars."""
    if not rows:
        st.info("Nothing to compare in this range.", icon=":material/info:")
    else:
        table = fitting.validation_table(rows).set_index("what")
        numbers = [c for c in table.columns if c not in ("unit", "verdict", "likely cause")]
        # a static table, so the likely cause wraps and is read whole
        st.table(
            table.style.map(_colour(VERDICT_COLOURS), subset=["verdict"]).format(
                "{:,.1f}", subset=numbers, na_rep="n/a"
            )
        )
        bars = fitting.validation_bars(rows)
        whats = list(dict.fromkeys(bars["what"]))
        for start in range(0, len(whats), 4):
            cols = st.columns(4)
            for col, what in zip(cols, whats[start : start + 4]):
                part = bars[bars["what"] == what]
                col.altair_chart(
                    charts.observed_vs_predicted(part, f"{what} ({part['verdict'].iloc[0]})"),
                    width="stretch",
                    height=300,
                    key=f"{key}:{what}",
                )  # an int: "content" squeezes it
    for note in notes:
        st.caption(note)


def warnings(report: dict) -> None:
    if report.get("not_fitted"):
        st.info(
            "**Not fitted** (check these in the scenario file):\n\n"
            + "\n".join(f"- {n}" for n in report["not_fitted"]),
            icon=":material/help:",
        )
    if report.get("warnings"):
        with st.expander(
            f"{len(report['warnings'])} warning(s) from the fit", icon=":material/warning:", expanded=True
        ):
            st.markdown("\n".join(f"- {w}" for w in report["warnings"]))
