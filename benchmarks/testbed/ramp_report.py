"""The ramp's steps against both solvers: a second, independent look at latency across the load range.

The ramp is measured first, in one sweep of short steps from about 20 % to past the knee, before
the long phases; on a shared machine the two can see different neighbours. Predicting each step
as well as each phase shows whether an error belongs to the model (it shows in both) or to the
moment of the measurement (it shows in one).
"""

from __future__ import annotations

from benchmarks.testbed.report import _e, _f, err_pct

STATS = ("mean", "p99")


def step_key(offered_rps: float) -> str:
    return f"{offered_rps:.1f}"


def ramp_table(
    steps: list[dict], answers: dict[str, dict[str, dict]], capacity_rps: float | None
) -> list[str]:
    """Markdown rows: each step's measured mean and p99 (with its 95% interval where known: a short
    step's p99 rests on a few dozen requests) and every solver's, with the error."""
    labels = [label for label in answers if any(answers[label].values())]
    if not steps or not labels:
        return []
    head = "| offered req/s | load | measured mean ms | measured p99 ms [95% interval] | " + " | ".join(
        f"{label} mean | {label} p99" for label in labels
    )
    out = [head + " |", "|---|---|---|---|" + "---|---|" * len(labels)]
    for s in steps:
        load = f"{100 * s['offered_rps'] / capacity_rps:.0f}%" if capacity_rps else "–"
        ci = s.get("p99_ci95_ms")
        p99 = _f(s["p99_ms"]) + (f" [{_f(ci[0])}, {_f(ci[1])}]" if ci else "")
        cells = [_f(s["offered_rps"]), load, _f(s["mean_ms"]), p99]
        for label in labels:
            lat = (answers[label].get(step_key(s["offered_rps"])) or {}).get("latency_ms") or {}
            for stat, measured in zip(STATS, (s["mean_ms"], s["p99_ms"])):
                value = lat.get(stat)
                cells.append("–" if value is None else f"{_f(value)} ({_e(err_pct(value, measured))})")
        out.append("| " + " | ".join(cells) + " |")
    return out


def ramp_worst(steps: list[dict], answers: dict[str, dict], capacity_rps: float) -> dict[str, float | None]:
    """The worst error of mean and p99 over the steps from 20 % to 90 % of the measured capacity."""
    worst: dict[str, float | None] = {stat: None for stat in STATS}
    for s in steps:
        if not 0.19 <= s["offered_rps"] / capacity_rps <= 0.91:
            continue
        lat = (answers.get(step_key(s["offered_rps"])) or {}).get("latency_ms") or {}
        for stat, measured in zip(STATS, (s["mean_ms"], s["p99_ms"])):
            e = err_pct(lat.get(stat), measured)
            if e is not None and (worst[stat] is None or abs(e) > abs(worst[stat])):
                worst[stat] = e
    return worst
