"""Small drawing pieces the pages share: the service graph, headline numbers, friendly errors."""

from __future__ import annotations

import math
import re
from typing import Any

import streamlit as st

from model.planning.report import money, ms

DEFAULT_TARGET = 0.75  # model.planning.risk.DEFAULT_HEADROOM_PCT: the headroom target, as a fraction
AMBER = "#ffcf7a"


def bands(target: float = DEFAULT_TARGET) -> tuple[tuple[float, str, str], ...]:
    """Utilization bands (upper bound, fill colour, word): green up to the headroom target, amber
    above it (even when the SLO is met: one spike or a lost zone away from trouble), red saturated."""
    return (
        (min(0.5, target), "#cdebd3", "light"),
        (target, "#e6f4c4", "busy, within the headroom target"),
        (1.0, AMBER, f"above the {target:.0%} headroom target"),
        (math.inf, "#ffb3ad", "saturated"),
    )


BANDS = bands()
SHAPES = {"service": "box", "cache": "box", "database": "cylinder", "kafka": "box"}
STYLES = {"service": "rounded,filled", "cache": "filled", "database": "filled", "kafka": "filled,dashed"}


def md(text: object) -> str:
    """Visitor text (a name, a description) as Markdown in which no image, link or HTML can form.

    An image in Markdown makes every viewer's browser fetch it from its host. Escaping the
    characters that open images, links, autolinks and HTML (and the backslash itself) shows
    the text as written; other formatting is harmless and left alone."""
    return re.sub(r"([\\\[\]<>!])", r"\\\1", str(text)).replace("\n", " ")


def dot(text: object) -> str:
    """Text inside a double-quoted DOT string: quotes and backslashes escaped, no raw newlines."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("\r", " ")


def plural(count: int, word: str) -> str:
    """`1 server`, `4 servers`."""
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def band(utilization: float, target: float = DEFAULT_TARGET) -> tuple[str, str]:
    """(fill, word) of a utilization: at or under the target is within it; 100% is saturated."""
    light, within, above, saturated = bands(target)
    if utilization < light[0]:
        return light[1], light[2]
    if utilization <= target + 1e-9:
        return within[1], within[2]
    if utilization < 1.0:
        return above[1], above[2]
    return saturated[1], saturated[2]


def graph_dot(scenario, results, bottleneck: str | None, target: float = DEFAULT_TARGET) -> str:
    """DOT source of the service graph: nodes coloured by utilization against the headroom target
    (`bands`), the bottleneck outlined in red."""
    lines = [
        "digraph G {",
        '  rankdir=TB; bgcolor="transparent"; pad=0.2; nodesep=0.6; ranksep=0.55;',
        '  node [fontname="Helvetica", fontsize=15, penwidth=1.4, color="#6b7280", margin="0.25,0.12"];',
        '  edge [fontname="Helvetica", fontsize=12, color="#6b7280", fontcolor="#374151"];',
        '  client [label="clients\\n%s req/s", shape=plaintext, fontsize=13];' % f"{results.rate_rps:,.0f}",
    ]
    for name, node in scenario.nodes.items():
        stats = results.nodes.get(name)
        util = stats.utilization if stats else 0.0
        saturated = name in results.saturated
        colour, word = band(1.0 if saturated else util, target)
        detail = f"{node.kind} · {plural(stats.servers, 'server')}" if stats else node.kind
        label = f"{dot(name)}\\n{detail}\\n{100 * util:.0f}% busy"
        extra = ""
        if name == bottleneck:
            label += "\\n▲ bottleneck" if not saturated else "\\n■ saturated"
            extra = ', color="#c62828", penwidth=3'
        lines.append(
            f'  "{dot(name)}" [label="{label}", shape={SHAPES[node.kind]}, style="{STYLES[node.kind]}", '
            f'fillcolor="{colour}", tooltip="{dot(name)}: {word}"{extra}];'
        )
    lines.append(f'  client -> "{dot(scenario.entry)}";')
    for name, node in scenario.nodes.items():
        for call in getattr(node, "calls", []):
            label = f"×{call.visits:g}" + (" write" if call.op == "write" else "")
            style = (
                ', style=dashed, label="%s async"' % label if call.mode == "async" else f', label="{label}"'
            )
            lines.append(f'  "{dot(name)}" -> "{dot(call.to)}" [{style.lstrip(", ")}];')
        if getattr(node, "miss", None):
            lines.append(
                f'  "{dot(name)}" -> "{dot(node.miss)}" [style=dotted, label="miss {100 * (1 - node.hit_ratio):.0f}%"];'
            )
    lines.append("}")
    return "\n".join(lines)


def legend(target: float = DEFAULT_TARGET) -> str:
    """The bands as coloured chips: light, busy (up to the target), above the target, saturated."""
    light, within, above, saturated = bands(target)
    chips = (
        (light[1], f"light &lt;{light[0]:.0%}"),
        (within[1], f"busy &le;{target:.0%} (headroom target)"),
        (above[1], f"above {target:.0%}"),
        (saturated[1], "saturated (100%)"),
    )
    return " ".join(
        f"<span style='background:{c};padding:1px 6px;border-radius:3px;font-size:0.8em'>{w}</span>"
        for c, w in chips
    )


def slo_delta(value: float, target: float | None) -> tuple[str | None, str]:
    """A metric delta that reads as headroom against the SLO target: green under it, red over it."""
    if target is None:
        return None, "off"
    if not math.isfinite(value):
        return "unbounded: over the SLO", "inverse"
    diff = value - target
    if diff <= 0:
        return f"{ms(-diff)} under the SLO", "normal"
    return f"{ms(diff)} over the SLO", "inverse"


def node_cost_label(cost, node: str) -> str:
    """A node's name as cost charts and tables show it: marked where its price is not listed."""
    if node in cost.unknown:
        return f"{node} (price unknown)"
    return f"{node} (estimated)" if node in cost.estimated else node


def price_caveat(cost) -> None:
    """Say under a cost which node prices are estimated or unknown (nothing when all are listed)."""
    if cost.caveat():
        st.caption(
            f"Cost: {cost.caveat()}. Estimated prices are scaled from listed sizes of the same family "
            "(data/PRICES.md)."
        )


SATURATED = "saturated"
NO_STEADY_STATE = "no steady state"


def metric_ms(value: float) -> str:
    """A latency as a metric's big number: `ms()`, in seconds from 1,000 ms (`2.25 s`). A metric box
    of five across 1440 px holds about seven characters: "2,253.5 ms" was cut to "2,253.5 …",
    unit and all."""
    return f"{value / 1000:,.2f} s" if math.isfinite(value) and value >= 1000 else ms(value)


def latency_metric(
    value: float, before: float, target: float | None, changed: bool
) -> tuple[str, str | None, str, str]:
    """(value, delta, delta colour, arrow) of a latency metric: against the file when changed, else the SLO.

    A saturated system has no steady-state latency: it reads "saturated: no steady state",
    never a truncated "unbounded" or "+unbounded vs file"."""
    if not math.isfinite(value):
        return SATURATED, NO_STEADY_STATE, "inverse", "off"
    if changed:
        if not math.isfinite(before):
            return metric_ms(value), "the file is saturated", "normal", "off"
        change = value - before
        if abs(change) < 0.05:
            return metric_ms(value), "same as the file", "off", "off"
        # an ASCII minus: Streamlit reads the sign to point the arrow (a "−" drew a red up arrow on a saving)
        return metric_ms(value), f"{'+' if change > 0 else '-'}{ms(abs(change))} vs file", "inverse", "auto"
    delta, colour = slo_delta(value, target)
    return metric_ms(value), delta, colour, "off"


def headline(results, scenario, runway: Any, runway_note: str = "") -> None:
    """Four big numbers: p99 against the SLO, cost per month, runway, and errors."""
    c1, c2, c3, c4 = st.columns(4)
    text, delta, colour, _ = latency_metric(
        results.latency_ms.p99, results.latency_ms.p99, scenario.slo.p99_ms, False
    )
    c1.metric(
        "p99 latency",
        text,
        delta,
        delta_color=colour,
        delta_arrow="off",
        border=True,
        help=f"End-to-end 99th percentile at the entry node (async work excluded); SLO {ms(scenario.slo.p99_ms)}."
        if scenario.slo.p99_ms
        else "End-to-end 99th percentile at the entry node (async work excluded).",
    )
    from model.planning.growth import growth_in_use
    from streamlit_ui import cost_record

    cost_record.metric(c2, scenario)  # the cost of record, as on every page
    if isinstance(runway, int):
        fitted = " (fitted)" if growth_in_use(scenario).source == "fitted" else ""
        text, sub = (
            f"{runway} months",
            f"at {scenario.workload.growth_pct_per_month:g}% growth a month{fitted}",
        )
    elif runway == "beyond":
        text, sub = f"> {scenario.workload.horizon_months} months", "SLO met over the whole horizon"
    else:
        text, sub = "—", runway_note or None
    c3.metric(
        "Runway",
        text,
        sub,
        delta_color="off",
        delta_arrow="off",
        border=True,
        help="Months until today's configuration first misses the SLO as load grows.",
    )
    c4.metric(
        "Errors",
        f"{results.error_pct:.2f}%",
        "SLO met" if results.slo.met else "SLO missed",
        delta_color="normal" if results.slo.met else "inverse",
        delta_arrow="off",
        border=True,
        help="Requests that failed or timed out; SLO status covers every target.",
    )
    price_caveat(cost_record.this_month(scenario.model_dump_json()).cost)
    note = file_note(scenario, results)
    if note:
        st.caption(note)


def file_note(scenario, results, what: str = "the replicas written in the file") -> str | None:
    """Markdown for beside the bill when the latency shown assumes a fixed replica count that is not
    what the cost of record bills (autoscaled nodes), or when that count's bill differs; else None.
    Node names are visitor text: escaped (`views.md`)."""
    from streamlit_ui import cost_record
    from streamlit_ui.cost_record import dollars

    bill = cost_record.this_month(scenario.model_dump_json())
    scaled = [n for n, node in scenario.nodes.items() if getattr(node, "autoscale", None)]
    if not scaled and abs(results.cost.monthly - bill.monthly_usd) < 0.005:
        return None
    replicas = ", ".join(f"{md(n)} {scenario.nodes[n].replicas}" for n in scaled)
    text = (
        f"Latency here is at {what}{f' ({replicas})' if replicas else ''}, which would bill "
        f"{dollars(money(results.cost.monthly))} all month; the cost of record this month, "
        f"{dollars(money(bill.monthly_usd))}, bills "
    )
    if scaled:
        mean = ", ".join(f"{md(n)} {bill.nodes[n].mean_units:.1f}" for n in scaled)
        return text + f"the replicas the HPA runs hour by hour (mean {mean})."
    return text + "the commitment as finance buys it (a steady baseline, the rest on demand)."


def scenario_error(exc: Exception, what_next: str = "") -> None:
    """A refused scenario as one friendly message: where, why, and what to do."""
    where = getattr(exc, "source", "") or "the scenario"
    path = getattr(exc, "path", "")
    line = getattr(exc, "line", None)
    message = getattr(exc, "message", str(exc))
    location = f"**{md(where)}**" + (f", key {md(path)}" if path else "") + (f", line {line}" if line else "")
    st.error(
        f"{location}: {md(message)}\n\n{what_next or 'Fix the file and upload it again, or pick another scenario in the sidebar.'}",
        icon=":material/error:",
    )


RESET_HINT = "Reset the what-if changes in the sidebar, or open another scenario."


def scenario_or_stop(load, what_next: str = ""):
    """What `load()` returns (the page's scenario), or one friendly message and the end of the page.

    Any failure stops the page: a link or a what-if change can carry a value the loader refuses.
    """
    try:
        return load()
    except Exception as exc:
        scenario_error(exc, what_next)
        st.stop()


def connector_error(exc: Exception) -> None:
    message = getattr(exc, "message", str(exc))
    hint = getattr(exc, "hint", "")
    source = getattr(exc, "source", "")
    st.error(
        f"**{source or 'the data source'}**: {message[:1].upper() + message[1:]}\n\n{hint}",
        icon=":material/cloud_off:",
    )


def run_error(exc: Exception) -> None:
    """A worker that failed: say what happened without a traceback."""
    from streamlit_ui.run_pool import JobCancelled, JobTimeout, WorkerDied

    if isinstance(exc, WorkerDied):
        st.error(
            "The simulation worker stopped unexpectedly (out of memory?). Run it again; "
            "if it repeats, lower the load or the number of requests.",
            icon=":material/error:",
        )
    elif isinstance(exc, JobTimeout):
        st.error(
            f"The run was {exc} (the server's limit per run, HEADROOM_JOB_LIMIT_S). "
            "Lower the number of requests or simplify the scenario, or ask the operator to raise the limit.",
            icon=":material/hourglass_disabled:",
        )
    elif isinstance(exc, JobCancelled):
        st.info(
            "That run was stopped: a newer change replaced it. Run it again if you still need it.",
            icon=":material/info:",
        )
    elif isinstance(exc, TimeoutError):
        st.error(f"{exc}. The server is busy; try again in a minute.", icon=":material/hourglass_disabled:")
    else:
        st.error(f"The run failed: {exc.__class__.__name__}: {str(exc)[:200]}", icon=":material/error:")
