"""Observe: pull the series (demo, CloudWatch, Cloud Monitoring or a CSV), map them to nodes, build the fit file."""

import os

import pandas as pd
import streamlit as st

from streamlit_ui import cached, charts, endpoints, sources, state, uploads
from model.fit import observed as observe
from streamlit_ui.scenarios import scenarios_dir
from streamlit_ui.sidebar import setup
from streamlit_ui.views import connector_error, scenario_or_stop
from connectors.registry import DEFAULT_SOURCE, SOURCES as REGISTRY

setup()

SOURCES = {name: REGISTRY[name].label for name in [DEFAULT_SOURCE] + [n for n in REGISTRY if n != DEFAULT_SOURCE]}
NONE = "— not observed —"
CHART_PX = 280  # an explicit height: with "content" Streamlit squeezes a chart with a title and a legend on top

scenario = scenario_or_stop(cached.baseline)


st.title("Observe")
st.caption("What the running system did: pick a source, check which metric observes which node, "
           "and take the fit file with you (`python cli.py fit --config fit.yaml` repeats it in CI).")

source = st.segmented_control("Data source", list(SOURCES), format_func=SOURCES.get, default="demo", key="obs-source") or "demo"
region = project = endpoint = folder = ""
demo_path = str(state.scenario().path) if state.scenario().origin == "folder" else ""
lookback, period = 14, 300
if source in ("cloudwatch", "gcp"):
    c1, c2 = st.columns(2)
    if source == "cloudwatch":
        region = c1.text_input("Region", os.environ.get("AWS_REGION", "us-east-1"), key="obs-region",
                               help="Credentials come from the server's standard AWS chain (aws configure / aws sso "
                                    "login / AWS_PROFILE); never typed here.")
    else:
        project = c1.text_input("Project", os.environ.get("GOOGLE_CLOUD_PROJECT", ""), key="obs-project",
                                help="Credentials come from `gcloud auth application-default login` "
                                     "(or GOOGLE_APPLICATION_CREDENTIALS) on the server; never typed here.")
    endpoint = endpoints.configured(source)
    if endpoint:
        c2.text_input("Endpoint (set by the server)", endpoint, disabled=True, key=f"obs-{source}-endpoint-fixed")
    elif endpoints.loopback_allowed():
        endpoint = c2.text_input("Loopback endpoint (demo or test server)", "", key=f"obs-{source}-endpoint",
                                 placeholder="http://127.0.0.1:5000" if source == "cloudwatch" else "127.0.0.1:8085",
                                 help=f"Allowed by {endpoints.LOOPBACK_ENV} on this server: a server on this machine only.")
    try:
        region, project = endpoints.check_region(region), endpoints.check_project(project)
        endpoint = endpoint if endpoints.configured(source) else endpoints.loopback(endpoint)
    except endpoints.EndpointRefused as exc:
        st.error(str(exc)[:1].upper() + str(exc)[1:], icon=":material/block:")
        st.stop()
elif source == "csv":
    upload = st.file_uploader("Metrics CSV (a `timestamp` column and one column per series)", type=["csv"],
                              key="obs-csv")
    if upload is None:
        st.info("Upload a CSV export to map its columns to nodes.", icon=":material/upload_file:")
        st.stop()
    holder = st.session_state.get("obs-folder")
    if not isinstance(holder, uploads.UploadFolder):  # removed with the session (streamlit_ui/uploads.py)
        holder = st.session_state["obs-folder"] = uploads.UploadFolder()
    folder = str(holder.write(upload.name, upload.getvalue()).parent)
if source == "demo":
    st.caption(REGISTRY[source].help)
if source in ("cloudwatch", "gcp"):
    lookback = st.slider("Look back (days)", 1, 63, 14, key="obs-lookback")
    if not st.toggle("Connect", key="obs-connect", help="Lists metrics (ListMetrics / ListMetricDescriptors)."):
        st.stop()

with st.spinner("Discovering metrics…"):
    try:
        discovered = sources.discover(source, region, project, endpoint, folder, demo_path)
    except Exception as exc:
        connector_error(exc)
        st.stop()
if not discovered:
    st.warning("The source lists no metrics. Check the region or project, and that the resources ran in the last two weeks.")
    st.stop()

labels = [NONE] + [info.label for info in discovered]
with st.expander(f"Map {len(discovered)} discovered metrics to the graph's nodes", expanded=source != "demo"):
    mapping = {}
    cols = st.columns(3)
    for k, (node, key) in enumerate(observe.slots(scenario)):
        default = observe.default_choice(node, key, discovered)
        label = f"{node}.{key}" if node else f"entry {key}"
        choice = cols[k % 3].selectbox(label, labels, index=0 if default is None else default + 1,
                                       key=f"obs-map:{source}:{node}.{key}")
        if choice != NONE:
            mapping[(node, key)] = discovered[labels.index(choice) - 1].metric

if ("", "traffic") not in mapping:
    st.warning("Map a metric to the entry's traffic (requests arriving) to build a fit file.", icon=":material/warning:")
    st.stop()
if source == "demo":  # the demo scenario is named relative to the scenarios folder, as scenarios/fit-demo.yaml does
    folder = str(scenarios_dir())
fit_data = observe.fit_file(scenario, source, mapping, lookback_days=lookback, period_s=period,
                            region=region or None, project=project or None,
                            demo_scenario=f"{state.scenario().name}.yaml" if demo_path else None)
fit_yaml = observe.to_yaml(fit_data)

with st.spinner("Fetching series…"):
    try:
        frame, report, warnings = sources.fetch(fit_yaml, folder, endpoint)
    except Exception as exc:
        from model.fit.file import FitFileError
        if isinstance(exc, FitFileError):
            st.error(f"The fit file is invalid: {exc}", icon=":material/error:")
        else:
            connector_error(exc)
        st.stop()
st.session_state[state.SOURCE] = f"{SOURCES[source]}: {report}"
st.session_state[state.FIT_YAML] = {"yaml": fit_yaml, "folder": folder, "endpoint": endpoint}
st.caption(report)
for w in warnings:
    st.warning(w)

traffic = observe.rate_frame(frame, "traffic", period)
busiest = observe.peak(traffic)
latency = observe.rate_frame(frame, "latency", period)
spikes = observe.incidents(latency) if len(latency) else []
cpu_series = [s for s in frame["series"].unique() if s.endswith(".cpu")]
cpu_spikes = [span for s in cpu_series for span in observe.incidents(observe.rate_frame(frame, s, period), factor=2.0)]
spans = spikes or cpu_spikes
k1, k2, k3 = st.columns(3)
k1.metric("Peak load", f"{traffic['value'].max():,.0f} req/s" if len(traffic) else "—",
          f"{busiest:%a %d %b %H:%M} UTC" if busiest is not None else None, delta_color="off", delta_arrow="off", border=True)
k2.metric("Mean load", f"{traffic['value'].mean():,.0f} req/s" if len(traffic) else "—", border=True)
k3.metric("Incidents detected", str(len(spans)), (f"first {spans[0][0]:%a %d %b %H:%M} UTC" if spans else "none detected"),
          delta_color="off", delta_arrow="off", border=True,
          help="Spans where latency (or a node's CPU) ran well above its one-day median.")

st.altair_chart(charts.series_chart(traffic.assign(label="requests/s"), "Traffic at the entry", "requests/s", busiest, spans),
                width="stretch", height=CHART_PX)
if cpu_series:
    cpu = pd.concat([observe.rate_frame(frame, s, period).assign(label=s.split(".")[1]) for s in cpu_series])
    st.altair_chart(charts.series_chart(cpu, "CPU per node", "CPU %", busiest, spans), width="stretch", height=CHART_PX)
if len(latency):
    st.altair_chart(charts.series_chart(latency.assign(label="p99"), "Observed latency", "ms", busiest, spans),
                    width="stretch", height=CHART_PX)

st.subheader("The series")
st.dataframe(observe.summary(frame, period), hide_index=True, width="stretch",
             column_config={"mean": st.column_config.NumberColumn(format="%.1f"),
                            "p95": st.column_config.NumberColumn(format="%.1f"),
                            "peak": st.column_config.NumberColumn(format="%.1f"),
                            "peak at": st.column_config.DatetimeColumn(format="ddd D MMM HH:mm")})

st.subheader("The fit file")
left, right = st.columns([1.4, 1])
left.code(fit_yaml, language="yaml")
with right:
    st.download_button("Download fit.yaml", fit_yaml, file_name="fit.yaml", mime="application/x-yaml",
                       type="primary", icon=":material/download:", key="obs-download")
    st.caption("Save it in the scenarios folder (next to the scenario it names) and run "
               "`python cli.py fit --config scenarios/fit.yaml --out fitted.yaml`; Calibrate shows that fit."
               if source == "demo" else "Save it and run `python cli.py fit --config fit.yaml --out fitted.yaml`; "
               "Calibrate shows that fit." + (" Keep the CSV next to it." if source == "csv" else ""))

