"""Calibrate: the scenario fitted to what was observed (model/fit/pipeline.py), and how well it reproduces it."""

import streamlit as st

from streamlit_ui import cached, fit_views, fitting, sources, state
from streamlit_ui.scenarios import DEFAULT_NAME, ScenarioText, scenarios_dir, slug
from streamlit_ui.sidebar import setup
from streamlit_ui.views import scenario_or_stop
from model.fit import observed as observe

setup()

scenario = scenario_or_stop(cached.baseline)

st.title("Calibrate")
current = state.scenario()
observed = st.session_state.get(state.FIT_YAML)
if observed is not None:
    st.caption(
        "Fitting the fit file built on Observe (download it there to repeat this with `python cli.py fit`)."
    )
    observed = dict(observed)
elif current.origin == "folder" and current.name == DEFAULT_NAME:
    text, folder = fitting.demo_fit_file()
    observed = {"yaml": text, "folder": folder, "endpoint": ""}
    st.caption(
        "Fitting the demo's fit file, `scenarios/fit-demo.yaml` (`python cli.py fit --source demo` does the same); "
        "pick another source on Observe."
    )
else:
    demo_path = str(current.path) if current.origin == "folder" else ""
    observed = {
        "yaml": sources.demo_fit_yaml(scenario, demo_path),
        "folder": str(scenarios_dir()),
        "endpoint": "",
    }
    st.caption("Fitting demo data generated from this scenario (pick another source on Observe).")

if state.changes():  # the what-if changes' replicas, cores and instances are what the fit divides CPU by
    observed["yaml"] = observe.with_structure(observed["yaml"], scenario_or_stop(cached.current))
    st.caption(
        "With the what-if changes in effect: "
        + ", ".join(f"`{k} = {v}`" for k, v in state.changes().items())
        + "."
    )

with st.spinner("Fitting the scenario to the observed series (a second or two)…"):
    try:
        fitted = fitting.fit(
            observed["yaml"], observed["folder"], observed["endpoint"], files=observed.get("files", ())
        )
    except Exception as exc:  # FitFileError, FitError, ConnectorError: a message, never a traceback
        fit_views.fit_error(exc)
        st.stop()
report = fitted["report"]
window = report["window"]
st.caption(f"{report['fetch'] or report['source']}. Fitted over {window['start']} to {window['end']}.")

fit_views.load(report)
fit_views.values(report)
fit_views.warnings(report)

st.subheader("Validation: predicted against observed")
st.caption(
    f"The fitted scenario ({report['validation']['method']} solver) at the traffic of every observed period. "
    "MAPE up to 10% is good, up to 25% fair, above that poor."
)
fit_views.checks(report["validation"]["rows"], report["validation"]["notes"], "validation", "val")

backtest = report["backtest"]
st.subheader("Backtest: the last week, predicted")
st.caption(
    f"Fitted on {backtest['train']} only, then predicting {backtest['test']} from its traffic alone: "
    "the error to expect from a forecast."
)
if backtest["skipped"]:
    st.info(backtest["skipped"], icon=":material/info:")
else:
    fit_views.checks(backtest["rows"], backtest["notes"], "backtest", "bt")

st.subheader("The fitted scenario")
slo = scenario.slo.model_dump(exclude_none=True)
text = fitting.named_yaml(fitted, scenario.name, slo, f"{current.name}.yaml")
name = slug(f"{current.name}-fitted")


def use_fitted() -> None:
    st_text = ScenarioText(name, text, "upload")
    st.session_state[state.LIBRARY][name] = st_text
    state.set_scenario(st_text)
    st.session_state[state.NOTICE] = (
        f"Now using {name}.yaml, the fitted scenario; pick the one you had in the list above to go back."
    )


left, right = st.columns([1.6, 1])
left.code(text, language="yaml", wrap_lines=True)
with right:
    st.download_button(
        "Download the fitted scenario",
        text,
        file_name=f"{name}.yaml",
        mime="application/x-yaml",
        type="primary",
        icon=":material/download:",
        key="cal-download",
    )
    st.button(
        "Use the fitted scenario",
        icon=":material/check_circle:",
        key="cal-use",
        on_click=use_fitted,
        help="It becomes the current scenario on every page (and is kept this session for Compare).",
    )
    st.caption(
        "Every line says whether the value was fitted, given or assumed. "
        + (f"The SLO is {current.name}.yaml's: a fit does not estimate targets." if slo else "")
    )
    growth_fit = (fitted["document"].get("workload") or {}).get("growth_fit")
    if growth_fit:  # the same growth on Cost and in the forecasts, with the interval they draw
        st.caption(
            f"Cost and the forecasts plan with this growth, {growth_fit['pct_per_month']:g}% a month, and its "
            f"90% band, {growth_fit['low_pct']:g}% to {growth_fit['high_pct']:g}% (`workload.growth_fit`; "
            "the load above shows the 95% interval)."
        )
