"""The testbed's report: measured phases against each solver's prediction, error per statistic.

Error is (predicted - measured) / measured in percent: positive means the model is pessimistic.
Nothing here adjusts a prediction; the numbers are what the CLI answered.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from benchmarks.testbed.measure import Measured

STATS = ("mean", "p50", "p95", "p99")
NODES = ("web", "cache", "db")


def err_pct(predicted: float | None, measured: float | None) -> float | None:
    if predicted is None or measured is None or not measured or any(map(math.isnan, (predicted, measured))):
        return None
    return 100.0 * (predicted - measured) / measured


def _f(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _e(value: float | None) -> str:
    return "–" if value is None else f"{value:+.0f}%"


def predicted_stats(answer: dict) -> dict[str, float | None]:
    """The numbers of a `simulate --json` answer the report compares, CPU as % of one core per node."""
    if not answer or "error" in answer:
        return {}
    lat = answer.get("latency_ms", {})
    out: dict[str, float | None] = {s: lat.get(s) for s in STATS}
    out["throughput"] = answer.get("throughput_rps")
    out["errors"] = answer.get("error_pct")
    for node in NODES:
        info = (answer.get("nodes") or {}).get(node) or {}
        util, servers = info.get("utilization"), info.get("servers")
        # utilization is per server (core); the measured CPU is % of one core over all of a node's processes
        out[f"cpu_{node}"] = 100.0 * util * servers if util is not None and servers else None
    return out


def measured_stats(m: Measured) -> dict[str, float]:
    out = {s: m.latency_ms[s] for s in STATS}
    out["throughput"], out["errors"] = m.throughput_rps, m.error_pct
    for node in NODES:
        out[f"cpu_{node}"] = m.cpu_pct.get(node, math.nan)
    return out


def phase_table(phases: list[Measured], capacity_rps: float | None) -> list[str]:
    lines = [
        "| phase | load | offered req/s | served req/s | errors % | mean ms | p50 ms | p95 ms | p99 ms "
        "| CPU web % | CPU redis % | CPU postgres % | other work on the service cores % | hit ratio | workers "
        "| generator lag max ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in phases:
        load = f"{100 * m.offered_rps / capacity_rps:.0f}%" if capacity_rps else "–"
        lines.append(
            f"| {m.name} | {load} | {_f(m.offered_rps)} | {_f(m.throughput_rps)} "
            f"| {_f(m.error_pct, 2)} | "
            + " | ".join(_f(m.latency_ms[s]) for s in STATS)
            + " | "
            + " | ".join(_f(m.cpu_pct.get(n)) for n in NODES)
            + f" | {_f(_other(m))}"
            + f" | {_f(m.hit_ratio, 3)} | {m.settings.get('workers', '')} | {_f(m.max_send_lag_ms)} |"
        )
    return lines


def _other(m: Measured) -> float | None:
    """CPU of the service cores that none of the three servers used (other processes on a shared machine)."""
    host = m.cpu_pct.get("host")
    return None if host is None else host - sum(m.cpu_pct.get(n, math.nan) for n in NODES)


def prediction_table(phases: list[Measured], answers: dict[str, dict], label: str) -> list[str]:
    cols = (*STATS, "throughput", "errors", "cpu_web", "cpu_cache", "cpu_db")
    lines = [
        f"**{label}**: predicted (error vs measured)",
        "",
        "| phase | "
        + " | ".join(
            c.replace("cpu_cache", "CPU redis")
            .replace("cpu_db", "CPU postgres")
            .replace("cpu_web", "CPU web")
            + (" ms" if c in STATS else "")
            for c in cols
        )
        + " | saturated |",
        "|---" * (len(cols) + 2) + "|",
    ]
    for m in phases:
        answer = answers.get(m.name) or {}
        if "error" in answer:
            lines.append(f"| {m.name} | " + f"refused: {answer['error']}" + " |" * (len(cols) + 1))
            continue
        pred, meas = predicted_stats(answer), measured_stats(m)
        cells = []
        for c in cols:
            digits = 2 if c == "errors" else 1
            e = None if c == "errors" else err_pct(pred.get(c), meas.get(c))
            cells.append(f"{_f(pred.get(c), digits)} ({_e(e)})" if e is not None else _f(pred.get(c), digits))
        lines.append(
            f"| {m.name} | " + " | ".join(cells) + f" | {', '.join(answer.get('saturated') or []) or '–'} |"
        )
    return lines


def whatif_rows(
    base: Measured, case: Measured, base_answers: dict[str, dict], case_answers: dict[str, dict]
) -> list[str]:
    """Measured change base -> case against each solver's predicted change, for mean, p99 and CPU."""
    rows = []
    mb, mc = measured_stats(base), measured_stats(case)
    for stat in ("mean", "p99", "cpu_db", "cpu_web"):
        measured = err_pct(mc[stat], mb[stat])
        cells = []
        for label in base_answers:
            pb, pc = predicted_stats(base_answers[label]), predicted_stats(case_answers.get(label, {}))
            predicted = err_pct(pc.get(stat), pb.get(stat))
            verdict = ""
            if predicted is not None and measured is not None:
                same = (predicted > 0) == (measured > 0)
                off = abs(predicted - measured) / max(abs(measured), 1e-9) * 100
                verdict = f" {'right direction' if same else 'WRONG direction'}, magnitude off by {off:.0f}%"
            cells.append(f"{_e(predicted)}{verdict}")
        rows.append(
            f"| {case.name} | {stat.replace('cpu_', 'CPU ')} | {_f(mb[stat])} → {_f(mc[stat])} ({_e(measured)}) | "
            + " | ".join(cells)
            + " |"
        )
    return rows


def target_summary(
    phases: list[Measured], answers: dict[str, dict], capacity_rps: float
) -> dict[str, float | None]:
    """The worst |error| of mean and p99 over the phases from 20 % to 90 % of the measured capacity."""
    worst: dict[str, float | None] = {"mean": None, "p99": None}
    for m in phases:
        if not 0.19 <= m.offered_rps / capacity_rps <= 0.91:
            continue
        pred, meas = predicted_stats(answers.get(m.name) or {}), measured_stats(m)
        for stat in worst:
            e = err_pct(pred.get(stat), meas.get(stat))
            if e is not None and (worst[stat] is None or abs(e) > abs(worst[stat])):
                worst[stat] = e
    return worst


def as_json(phases: list[Measured]) -> list[dict]:
    return [asdict(m) for m in phases]
