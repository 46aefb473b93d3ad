"""Observe: pull the series (demo, CloudWatch, Cloud Monitoring or a CSV), map them to nodes, build the fit file."""

import os

import pandas as pd
import streamlit as st

from connectors.registry import DEFAULT_SOURCE, SOURCES as REGISTRY
from model.fit import observed as observe
from model.fit.errors import FitError
from streamlit_ui import cached, charts, csv_mapping, endpoints, sources, state, uploads
from streamlit_ui.scenarios import scenarios_dir
from streamlit_ui.sidebar import setup
from streamlit_ui.views import connector_error, scenario_or_stop

setup()

SOURCES = {
    name: REGISTRY[name].label for name in [DEFAULT_SOURCE] + [n for n in REGISTRY if n != DEFAULT_SOURCE]
}
NONE = "— not observed —"

# the scenario in effect, what-if changes included: 6 replicas set on What-if are 6 in the fit file
scenario = scenario_or_stop(cached.current)


st.title("Observe")
st.caption(
    "What the running system did: pick a source, check which metric observes which node, "
    "and take the fit file with you (`python cli.py fit --config fit.yaml` repeats it in CI)."
)

source = (
    st.segmented_control(
        "Data source", list(SOURCES), format_func=SOURCES.get, default="demo", key="obs-source"
    )
    or "demo"
)
region = project = endpoint = folder = ""
files: tuple = ()
demo_path = str(state.scenario().path) if state.scenario().origin == "folder" else ""
lookback, period = 14, 300
if source in endpoints.REMOTE_SOURCES:
    c1, c2 = st.columns(2)
    if source == "prometheus":
        c1.caption(
            "PromQL through the server's Prometheus (Thanos, Mimir): its URL and any credentials "
            "(PROMETHEUS_BEARER_TOKEN, or PROMETHEUS_USERNAME/PASSWORD) come from the server's environment."
        )
    elif source == "cloudwatch":
        region = c1.text_input(
            "Region",
            os.environ.get("AWS_REGION", "us-east-1"),
            key="obs-region",
            help="Credentials come from the server's standard AWS chain (aws configure / aws sso "
            "login / AWS_PROFILE); never typed here.",
        )
    else:
        project = c1.text_input(
            "Project",
            os.environ.get("GOOGLE_CLOUD_PROJECT", ""),
            key="obs-project",
            help="Credentials come from `gcloud auth application-default login` "
            "(or GOOGLE_APPLICATION_CREDENTIALS) on the server; never typed here.",
        )
    endpoint = endpoints.configured(source)
    if endpoint:
        c2.text_input(
            "Endpoint (set by the server)", endpoint, disabled=True, key=f"obs-{source}-endpoint-fixed"
        )
    elif endpoints.loopback_allowed():
        endpoint = c2.text_input(
            "Loopback endpoint (demo or test server)",
            "",
            key=f"obs-{source}-endpoint",
            placeholder={
                "cloudwatch": "http://127.0.0.1:5000",
                "gcp": "127.0.0.1:8085",
                "prometheus": "http://127.0.0.1:9090",
            }[source],
            help=f"Allowed by {endpoints.LOOPBACK_ENV} on this server: a server on this machine only.",
        )
    try:
        region, project = endpoints.check_region(region), endpoints.check_project(project)
        endpoint = endpoint if endpoints.configured(source) else endpoints.loopback(endpoint)
    except endpoints.EndpointRefused as exc:
        st.error(str(exc)[:1].upper() + str(exc)[1:], icon=":material/block:")
        st.stop()
elif source == "csv":
    uploaded = st.file_uploader(
        "Metrics CSV files (a `timestamp` column and one column per series; several files at once)",
        type=["csv"],
        accept_multiple_files=True,
        key="obs-csv",
    )
    if not uploaded:
        st.info(
            "Upload one or more CSV exports (one series per file, or many columns in one) to map their columns "
            "to nodes.",
            icon=":material/upload_file:",
        )
        st.stop()
    holder = st.session_state.get("obs-folder")
    if not isinstance(holder, uploads.UploadFolder):  # removed with the session (streamlit_ui/uploads.py)
        holder = st.session_state["obs-folder"] = uploads.UploadFolder()
    folder = str(holder.path)
    files = csv_mapping.save_uploads(folder, [(u.name, u.getvalue()) for u in uploaded])
    state.set_source(f"{SOURCES[source]}: {', '.join(name for name, _ in files)} (not fitted yet)")
if source == "demo":
    st.caption(REGISTRY[source].help)
if source in endpoints.REMOTE_SOURCES:
    if source == "prometheus" and not endpoint:
        st.info(
            "This server has no Prometheus configured: set PROMETHEUS_URL in its environment (for a server on "
            f"this machine, {endpoints.LOOPBACK_ENV}=1 lets this page take a loopback URL).",
            icon=":material/settings:",
        )
        st.stop()
    lookback = st.slider("Look back (days)", 1, 63, 14, key="obs-lookback")
    listing = {"prometheus": "jobs, metric names and the usual Kubernetes queries"}.get(
        source, "ListMetrics / ListMetricDescriptors"
    )
    if not st.toggle("Connect", key="obs-connect", help=f"Lists what is there ({listing})."):
        st.stop()

with st.spinner("Discovering metrics…"):
    try:
        discovered = sources.discover(source, region, project, endpoint, folder, demo_path, files)
    except Exception as exc:
        connector_error(exc)
        st.stop()
if not discovered:
    st.warning(
        "The source lists no metrics. Check the region or project, and that the resources ran in the last two weeks."
    )
    st.stop()

# Options are the metrics' specs (JSON, unique per metric), shown by their label; never a label looked
# up again by index: two columns of one file, listed under one label, collapsed into its first.
specs = {info.metric.model_dump_json(): k for k, info in enumerate(discovered)}
options = [NONE] + list(specs)
kinds: dict[tuple[str, str], str] = {}
with st.expander(f"Map {len(discovered)} discovered metrics to the graph's nodes", expanded=source != "demo"):
    mapping = {}
    cols = st.columns(2)  # two wide columns: "elb_requests.csv: RequestCount" is read whole
    for k, (node, key) in enumerate(observe.slots(scenario)):
        default = observe.default_choice(node, key, discovered)
        label = f"{node}.{key}" if node else f"entry {key}"
        col = cols[k % 2]
        choice = col.selectbox(
            label,
            options,
            index=0 if default is None else default + 1,
            format_func=lambda o: NONE if o == NONE else discovered[specs[o]].label,
            key=f"obs-map:{source}:{node}.{key}",
        )
        if choice == NONE:
            continue
        metric = discovered[specs[choice]].metric
        allowed = csv_mapping.kinds_for(key) if source == "csv" else []
        if allowed:  # a CSV says nothing of its units: the user confirms what the column counts
            detected = csv_mapping.detect_kind(
                key, metric.column, csv_mapping.column_sample(folder, metric.file, metric.column)
            )
            kind = col.radio(
                f"{label} is",
                allowed,
                index=allowed.index(detected),
                horizontal=True,
                format_func=lambda c, d=detected: csv_mapping.KINDS[c][0] + (" (detected)" if c == d else ""),
                key=f"obs-kind:{node}.{key}:{choice}",
            )
            kinds[(node, key)] = kind
            metric = csv_mapping.with_kind(metric, kind)
        mapping[(node, key)] = metric

if ("", "traffic") not in mapping:
    st.warning(
        "Map a metric to the entry's traffic (requests arriving) to build a fit file.",
        icon=":material/warning:",
    )
    st.stop()
if (
    source == "demo"
):  # the demo scenario is named relative to the scenarios folder, as scenarios/fit-demo.yaml does
    folder = str(scenarios_dir())
fit_data = observe.fit_file(
    scenario,
    source,
    mapping,
    lookback_days=lookback,
    period_s=period,
    region=region or None,
    project=project or None,
    demo_scenario=f"{state.scenario().name}.yaml" if demo_path else None,
    traffic_kind=kinds.get(("", "traffic")),
    url=endpoint if source == "prometheus" else None,
)
fit_yaml = observe.to_yaml(fit_data)

with st.spinner("Fetching series…"):
    try:
        frame, report, warnings = sources.fetch(fit_yaml, folder, endpoint, files)
    except Exception as exc:
        from model.fit.file import FitFileError

        if isinstance(exc, FitFileError):
            st.error(f"The fit file is invalid: {exc}", icon=":material/error:")
        else:
            connector_error(exc)
        st.stop()
state.set_source(
    f"{SOURCES[source]}" + (f" ({', '.join(n for n, _ in files)})" if files else "") + f": {report}"
)
st.session_state[state.FIT_YAML] = {"yaml": fit_yaml, "folder": folder, "endpoint": endpoint, "files": files}
st.caption(report)
for w in warnings:
    st.warning(w)

try:  # the mapped series as the fit reads them: counts turned into rates, CPU into %, latency into ms
    obs = observe.preview(fit_yaml, frame, source, folder)
except FitError as exc:
    st.error(
        f"**These series cannot be fitted as mapped**: {exc}\n\nCheck the mapping and what each column "
        "counts (above).",
        icon=":material/error:",
    )
    st.stop()
for w in obs.warnings:
    st.caption(f":material/info: {w}")

st.subheader("Preview: the mapped series as the fit reads them")
start, end = obs.index[0].to_pydatetime(), obs.index[-1].to_pydatetime()
if end > start:
    start, end = st.slider(
        "Time range",
        start,
        end,
        (start, end),
        format="ddd D MMM HH:mm",
        key="obs-range",
        help="Narrow the charts to a range; drag or scroll inside a chart to zoom, double-click to reset.",
    )
in_range = lambda f: f[(f["timestamp"] >= pd.Timestamp(start)) & (f["timestamp"] <= pd.Timestamp(end))]  # noqa: E731
traffic = in_range(observe.as_frame(obs.traffic_rps, "requests/s"))
busiest = observe.peak(traffic)
latency = (
    in_range(observe.as_frame(obs.latency_ms, obs.latency_stat))
    if obs.latency_ms is not None
    else traffic.iloc[:0]
)
cpu = {node: in_range(observe.as_frame(values, node, 100.0)) for node, values in obs.cpu.items()}
spikes = observe.incidents(latency) if len(latency) else []
cpu_spikes = [span for part in cpu.values() for span in observe.incidents(part, factor=2.0)]
spans = spikes or cpu_spikes
k1, k2, k3 = st.columns(3)
k1.metric(
    "Peak load",
    f"{traffic['value'].max():,.1f} req/s" if len(traffic) else "—",
    f"{busiest:%a %d %b %H:%M} UTC" if busiest is not None else None,
    delta_color="off",
    delta_arrow="off",
    border=True,
    help="The busiest period's requests per second, after the traffic's kind (count or rate) is applied.",
)
k2.metric("Mean load", f"{traffic['value'].mean():,.1f} req/s" if len(traffic) else "—", border=True)
k3.metric(
    "Incidents detected",
    str(len(spans)),
    (f"first {spans[0][0]:%a %d %b %H:%M} UTC" if spans else "none detected"),
    delta_color="off",
    delta_arrow="off",
    border=True,
    help="Spans where latency (or a node's CPU) ran well above its one-day median.",
)

overlay_node = (
    st.selectbox(
        "Overlay a node's CPU on the traffic",
        ["none", *cpu],
        key="obs-overlay",
        format_func=lambda n: "— none —" if n == "none" else f"{n} CPU %",
    )
    if cpu
    else "none"
)
panels = [(traffic, "Traffic at the entry", "requests/s")]
if cpu:
    panels.append((pd.concat(cpu.values()), "CPU per node", "CPU %"))
if len(latency):
    panels.append((latency, "Observed latency", "ms"))
st.altair_chart(
    charts.observed_panels(
        panels, busiest, spans, cpu.get(overlay_node), colours=charts.node_colours(list(scenario.nodes))
    ),
    width="content",
    key="obs-charts",
)
st.caption("Drag inside a chart to pan, scroll to zoom (all charts follow), double-click to reset.")

st.subheader("The series")
st.dataframe(
    observe.summary(frame, period),
    hide_index=True,
    width="stretch",
    column_config={
        "mean": st.column_config.NumberColumn(format="%.1f"),
        "p95": st.column_config.NumberColumn(format="%.1f"),
        "peak": st.column_config.NumberColumn(format="%.1f"),
        "peak at": st.column_config.DatetimeColumn(format="ddd D MMM HH:mm"),
    },
)

st.subheader("The fit file")
left, right = st.columns([1.4, 1])
left.code(fit_yaml, language="yaml", wrap_lines=True)
with right:
    st.download_button(
        "Download fit.yaml",
        fit_yaml,
        file_name="fit.yaml",
        mime="application/x-yaml",
        type="primary",
        icon=":material/download:",
        key="obs-download",
    )
    st.caption(
        "Save it in the scenarios folder (next to the scenario it names) and run "
        "`python cli.py fit --config scenarios/fit.yaml --out fitted.yaml`; Calibrate shows that fit."
        if source == "demo"
        else "Save it and run `python cli.py fit --config fit.yaml --out fitted.yaml`; "
        "Calibrate shows that fit." + (" Keep the CSV next to it." if source == "csv" else "")
    )
