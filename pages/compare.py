"""Compare: saved scenarios side by side, as a table and as charts."""

import math

import pandas as pd
import streamlit as st

from streamlit_ui import cached, charts, cost_record, diff_view, fitted_note, state
from streamlit_ui.views import node_cost_label
from streamlit_ui.sidebar import folder_names, setup
from streamlit_ui.scenarios import read_folder_scenario
from streamlit_ui.views import md
from model.planning.report import money, ms
from model.planning.failures import zone_loss_scenario

setup()


def _ms(value: float) -> str:
    return ms(value) if math.isfinite(value) else "saturated"


st.title("Compare")
st.caption(
    "Versions of the open system (its file, its what-if changes, the versions kept this session: sidebar → "
    "Open, save, download → Keep), solved with the same analytic method at their own load; add any other file."
)

library = st.session_state[state.LIBRARY]
options = {f"{n}.yaml": ("folder", n) for n in folder_names()} | {
    f"{n} (this session)": ("saved", n) for n in library
}
current = state.scenario()
current_label = f"{current.name}.yaml" if current.origin == "folder" else f"{current.name} (this session)"
if state.changes():
    options["current, with what-if changes"] = ("current", current.name)


def _load(label: str):
    origin, name = options[label]
    if origin == "folder":
        return cached.scenario_of(read_folder_scenario(name), {})
    if origin == "saved":
        return cached.scenario_of(library[name], {})
    return cached.current()


def _variant(label: str, graph: tuple) -> bool:
    """Another version of the open system: the same nodes of the same kinds, the same entry and the same kind
    of workload (a rate or users: an open and a closed load's numbers do not compare as variants)."""
    try:
        other = _load(label)
    except Exception:
        return False
    return _graph(other) == graph


def _graph(scenario) -> tuple:
    return (scenario.entry, sorted((n, x.kind) for n, x in scenario.nodes.items()), scenario.workload.closed)


try:
    base = cached.baseline()
    graph = _graph(base)
except Exception:
    base, graph = None, None
# By default: variants of the open system (the file, its what-if changes, the versions kept this session);
# unrelated systems only when picked, since "cheapest" across different systems means nothing.
defaults = [
    k
    for k in dict.fromkeys([current_label, "current, with what-if changes", *options])
    if k in options
    and (k in (current_label, "current, with what-if changes") or graph and _variant(k, graph))
]
picked = st.multiselect(
    "Scenarios",
    list(options),
    default=defaults[:6],
    key="cmp-pick",
    help="Variants of the open scenario are picked by default; add any other file to compare systems.",
)
if not picked:
    st.info("Pick at least one scenario.")
    st.stop()
if len(picked) == 1:
    st.info(
        "Only one version of this system so far: change a knob on What-if, or keep a variant "
        "(sidebar → Open, save, download → Keep), and it is compared here.",
        icon=":material/info:",
    )

rows, costs, problems, scenarios, caveats = [], [], [], {}, []
for label in picked:
    try:
        scenario = _load(label)
    except Exception as exc:
        problems.append(f"{label}: {exc}")
        continue
    scenarios[label] = scenario
    r = cached.quick_results(scenario.model_dump_json())
    zone = cached.quick_results(zone_loss_scenario(scenario).model_dump_json())
    top = cached.saturation_rps(scenario.model_dump_json())
    busiest = cached.bottleneck(r)
    bill = cost_record.this_month(scenario.model_dump_json())  # the cost of record, as on every page
    rows.append(
        {
            "scenario": label,
            "load (req/s)": r.rate_rps,
            "p50": r.latency_ms.p50,
            "p95": r.latency_ms.p95,
            "p99": r.latency_ms.p99,
            "p99 SLO": scenario.slo.p99_ms,
            "errors %": r.error_pct,
            "SLO": "met" if r.slo.met else "missed",
            "cost / month": bill.monthly_usd,
            "per million req": bill.per_million_usd,
            "bill verdict": cost_record.not_a_plan(scenario),
            "bottleneck": busiest,
            "busiest utilization": r.nodes[busiest].utilization if busiest in r.nodes else float("nan"),
            "headroom": top / r.rate_rps if r.rate_rps and math.isfinite(top) else float("inf"),
            "zone loss": ("survives" if zone.slo.met else "misses the SLO")
            + f" (p99 {_ms(zone.latency_ms.p99)})",
            "nodes": ", ".join(scenario.nodes),
        }
    )
    costs += [
        {"scenario": label, "node": node_cost_label(bill.cost, n), "monthly": v}
        for n, v in bill.cost.by_node.items()
    ]
    if bill.cost.caveat():
        caveats.append(f"{label}: {bill.cost.caveat()}")
for p in problems:
    st.error(p, icon=":material/error:")
if not rows:
    st.stop()

table = pd.DataFrame(rows)
shown = pd.DataFrame(
    {
        row["scenario"]: {
            "load": f"{row['load (req/s)']:,.0f} req/s",
            "p50 / p95 / p99": " / ".join(_ms(row[k]) for k in ("p50", "p95", "p99")),
            "p99 SLO": _ms(row["p99 SLO"]) if row["p99 SLO"] else "none",
            "errors": f"{row['errors %']:.2f}%",
            "SLO": row["SLO"],
            "cost this month": money(row["cost / month"])
            + (f" ({row['bill verdict']})" if row["bill verdict"] else ""),
            "per million requests": "— (saturated)"
            if row["bill verdict"] == "not a plan: saturated"
            else money(row["per million req"])
            if row["per million req"]
            else "—",
            "busiest node": f"{row['bottleneck']} at {100 * row['busiest utilization']:.0f}%",
            "headroom": f"{row['headroom']:.1f}× today's load"
            if math.isfinite(row["headroom"])
            else "unlimited",
            "losing one zone": row["zone loss"],
            "nodes": row["nodes"],
        }
        for row in rows
    }
)
# scenarios across, measures down: a static table wraps, so no column (and no name) is cut off
st.table(shown)
fitted_note.show(scenarios)
st.caption(
    "Headroom: how far the load can grow before the busiest node saturates. Losing one zone: a third of "
    "every node gone (at least one left), at today's load, before any autoscaler replaces it. "
    "Cost this month: " + cost_record.definition()
)

finite = table[table["p99"] < 1e9]
colours = charts.node_colours(list(base.nodes) if base is not None else [], list(pd.DataFrame(costs)["node"]))
bars_px = 70 + 40 * len(table)  # an int: "content" squeezes a bar chart to a sliver
left, right = st.columns(2)
with left:
    st.subheader("p99 latency")
    target = table["p99 SLO"].dropna().unique()
    st.altair_chart(
        charts.compare_bars(
            finite, "p99", "p99 (ms)", ",.0f", float(target[0]) if len(target) == 1 else None
        ),
        width="stretch",
        height=bars_px,
    )
    if len(finite) < len(table):
        st.caption(
            "Not drawn (saturated, no steady state): " + ", ".join(table[table["p99"] >= 1e9]["scenario"])
        )
with right:
    st.subheader("Cost this month")
    # the height is the whole chart's: its axis title and the node legend below take ~110 px of it
    st.altair_chart(charts.cost_by_node(pd.DataFrame(costs), colours), width="stretch", height=bars_px + 110)
    for caveat in caveats:
        st.caption(f"Cost of {caveat}.")

best = table[table["SLO"] == "met"].sort_values("cost / month")
if len(best) > 1:
    b = best.iloc[0]
    st.success(
        f"Cheapest that meets its SLO: **{md(b['scenario'])}** at {money(b['cost / month'])} this month, "
        f"p99 {ms(b['p99'])}.",
        icon=":material/savings:",
    )

st.divider()


def _side(label: str):
    origin, name = options[label]
    st_text, changes = {
        "folder": lambda: (read_folder_scenario(name), {}),
        "saved": lambda: (library[name], {}),
        "current": lambda: (state.scenario(), state.changes()),
    }[origin]()
    return diff_view.side_input(label, st_text, changes, cached.scenario_of(st_text, changes))


labels = list(options)
base_default = current_label if current_label in options else labels[0]
head_default = (
    "current, with what-if changes"
    if "current, with what-if changes" in options
    else (next((k for k in picked if k != base_default), labels[min(1, len(labels) - 1)]))
)
diff_view.section(labels, _side, base_default, head_default)
