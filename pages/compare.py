"""Compare: saved scenarios side by side, as a table and as charts."""

import pandas as pd
import streamlit as st

from streamlit_ui import cached, charts, diff_view, state
from streamlit_ui.views import node_cost_label
from streamlit_ui.sidebar import folder_names, setup
from streamlit_ui.scenarios import read_folder_scenario
from streamlit_ui.views import md
from model.planning.report import money, ms

setup()

st.title("Compare")
st.caption("Scenarios from the folder and the ones kept this session (sidebar → Open, save, download → Keep), "
           "solved with the same analytic method at their own load.")

library = st.session_state[state.LIBRARY]
options = {f"{n}.yaml": ("folder", n) for n in folder_names()} | {f"{n} (this session)": ("saved", n) for n in library}
current = state.scenario()
current_label = f"{current.name}.yaml" if current.origin == "folder" else f"{current.name} (this session)"
if state.changes():
    options["current, with what-if changes"] = ("current", current.name)
wanted = ["checkout.yaml", current_label, "current, with what-if changes"] + [k for k in options if options[k][0] == "saved"]
defaults = [k for k in dict.fromkeys(wanted) if k in options]
if len(defaults) < 2:  # nothing kept yet: a first look compares the worked examples
    defaults += [k for k in options if options[k][0] == "folder" and k not in defaults][:4 - len(defaults)]
picked = st.multiselect("Scenarios", list(options), default=defaults[:6] or list(options)[:2], key="cmp-pick")
if not picked:
    st.info("Pick at least one scenario.")
    st.stop()

rows, costs, problems, caveats = [], [], [], []
for label in picked:
    origin, name = options[label]
    try:
        if origin == "folder":
            scenario = cached.scenario_of(read_folder_scenario(name), {})
        elif origin == "saved":
            scenario = cached.scenario_of(library[name], {})
        else:
            scenario = cached.current()
    except Exception as exc:
        problems.append(f"{label}: {exc}")
        continue
    r = cached.quick_results(scenario.model_dump_json())
    rows.append({"scenario": label, "load (req/s)": r.rate_rps, "p50": r.latency_ms.p50, "p95": r.latency_ms.p95,
                 "p99": r.latency_ms.p99, "p99 SLO": scenario.slo.p99_ms, "errors %": r.error_pct,
                 "SLO": "met" if r.slo.met else "missed", "cost / month": r.cost.monthly,
                 "per million req": r.cost.per_million_requests, "bottleneck": cached.bottleneck(r),
                 "nodes": len(scenario.nodes)})
    costs += [{"scenario": label, "node": node_cost_label(r.cost, n), "monthly": v} for n, v in r.cost.by_node.items()]
    if r.cost.caveat():
        caveats.append(f"{label}: {r.cost.caveat()}")
for p in problems:
    st.error(p, icon=":material/error:")
if not rows:
    st.stop()

table = pd.DataFrame(rows)
st.dataframe(table.style.format(money, subset=["cost / month", "per million req"]), hide_index=True, width="stretch",
             column_config={
    "load (req/s)": st.column_config.NumberColumn(format="%.0f"),
    **{c: st.column_config.NumberColumn(c + " (ms)", format="%.1f") for c in ("p50", "p95", "p99", "p99 SLO")},
    "errors %": st.column_config.NumberColumn(format="%.2f")})

finite = table[table["p99"] < 1e9]
left, right = st.columns(2)
with left:
    st.subheader("p99 latency")
    target = table["p99 SLO"].dropna().unique()
    st.altair_chart(charts.compare_bars(finite, "p99", "p99 (ms)", ",.0f", float(target[0]) if len(target) == 1 else None),
                    width="stretch")
    if len(finite) < len(table):
        st.caption("Not drawn (saturated, unbounded latency): " + ", ".join(table[table["p99"] >= 1e9]["scenario"]))
with right:
    st.subheader("Cost per month")
    st.altair_chart(charts.cost_by_node(pd.DataFrame(costs)), width="stretch")
    for caveat in caveats:
        st.caption(f"Cost of {caveat}.")

best = table[table["SLO"] == "met"].sort_values("cost / month")
if len(best):
    b = best.iloc[0]
    st.success(f"Cheapest that meets its SLO: **{md(b['scenario'])}** at {money(b['cost / month'])}/month, "
               f"p99 {ms(b['p99'])}.", icon=":material/savings:")

st.divider()


def _side(label: str):
    origin, name = options[label]
    st_text, changes = {"folder": lambda: (read_folder_scenario(name), {}), "saved": lambda: (library[name], {}),
                        "current": lambda: (state.scenario(), state.changes())}[origin]()
    return diff_view.side_input(label, st_text, changes, cached.scenario_of(st_text, changes))


labels = list(options)
base_default = current_label if current_label in options else labels[0]
head_default = "current, with what-if changes" if "current, with what-if changes" in options else (
    next((k for k in picked if k != base_default), labels[min(1, len(labels) - 1)]))
diff_view.section(labels, _side, base_default, head_default)
