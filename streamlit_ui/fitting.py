"""The Calibrate page's fit: `model.fit.pipeline.fit_scenario` behind a cache, and its report as tables.

`fit` is the only Streamlit piece (a `st.cache_data` wrapper keyed on the fit file's text,
the folder its relative paths resolve from, and the endpoint); everything else turns the
fit's JSON report (`FitResult.to_json`, the same one `python cli.py fit --json` prints)
into frames for the page, so it is tested without a browser.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from streamlit_ui.scenarios import ROOT, scenarios_dir

UNITS = {
    "service_ms": "ms",
    "hit_ms": "ms",
    "read_ms": "ms",
    "write_ms": "ms",
    "consume_ms": "ms",
    "produce_ms": "ms",
    "timeout_ms": "ms",
    "hit_ratio": "",
    "background_cpu_pct": "%",
}
DEMO_FIT = "fit-demo.yaml"


def demo_fit_file() -> tuple[str, str]:
    """(text, folder) of the demo's fit file, `scenarios/fit-demo.yaml`, read from the scenarios folder."""
    for folder in (scenarios_dir(), ROOT / "scenarios"):
        path = Path(folder) / DEMO_FIT
        if path.is_file():
            return path.read_text(encoding="utf-8"), str(folder)
    raise FileNotFoundError(DEMO_FIT)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def fit(
    fit_yaml: str, folder: str = "", endpoint: str = "", source: str = "", files: tuple = ()
) -> dict[str, Any]:
    """Fit the scenario a fit file describes; raises FitFileError, FitError or ConnectorError.

    `files` (the uploaded CSVs' names and digests) only keys the cache: new rows, new fit.

    Returns the report (`to_json`), the scenario YAML with its provenance comments, and the
    pieces to render it again under another name (document, comments, header).
    """
    from model.fit.pipeline import fit_scenario
    from model.fit.file import fit_file_from_text

    fit_file = fit_file_from_text(fit_yaml, "fit.yaml")
    fit_file._base_dir = Path(folder) if folder else Path.cwd()
    result = fit_scenario(fit_file, source=source or None, endpoint=endpoint or None)
    return {
        "report": result.to_json(),
        "yaml": result.yaml_text(),
        "document": result.document,
        "comments": result.comments,
        "header": result.header,
    }


def named_yaml(fitted: dict[str, Any], title: str, slo: dict | None = None, slo_from: str = "") -> str:
    """The fitted scenario's YAML under a readable name, keeping the SLO of the scenario it was fitted for.

    A fit estimates the system, not its targets, so the document has no `slo`; the open
    scenario's targets are carried over (and say so in their comment) so the pages that
    measure against the SLO still can.
    """
    from model.fit.render import render

    document = copy.deepcopy(fitted["document"])
    comments = dict(fitted["comments"])
    document["name"] = f"{title} (fitted)"
    if slo and not document.get("slo"):
        ordered = {}
        for key, value in document.items():
            if key == "pricing":
                ordered["slo"] = slo
            ordered[key] = value
        document = ordered if "slo" in ordered else {**document, "slo": slo}
        comments[("slo",)] = (
            f"given: the targets of {slo_from or 'the scenario open in the app'} (a fit does not estimate targets)"
        )
    return render(document, comments, fitted["header"])


# ---------------------------------------------------------------- the report as tables


def _ci(ci: list | None) -> str:
    return f"{ci[0]:.4g} to {ci[1]:.4g}" if ci else ""


def values_table(report: dict) -> pd.DataFrame:
    """One row per fitted, given or assumed value that describes behaviour (times, ratios, visits)."""
    rows = []
    for node, nf in report["nodes"].items():
        law = nf.get("utilization_law") or {}
        for key, est in nf["values"].items():
            if key not in UNITS and est["how"] == "given":
                continue  # sizes and instances copied from the fit file
            rows.append(
                {
                    "node": node,
                    "key": key,
                    "value": est["value"],
                    "unit": UNITS.get(key, ""),
                    "95% interval": _ci(est.get("ci95")) if est["how"] == "fitted" else "",
                    "R²": est.get(
                        "r2", law.get("r2") if est["how"] == "fitted" and key.endswith("_ms") else None
                    ),
                    "how": est["how"],
                    "from": est.get("basis", ""),
                }
            )
        if law:
            rows.append(
                {
                    "node": node,
                    "key": "background CPU",
                    "value": law["background_cpu_pct"],
                    "unit": "%",
                    "95% interval": _ci(law.get("background_ci95_pct")),
                    "R²": law["r2"],
                    "how": "fitted",
                    "from": "the utilization regression's intercept (CPU with no requests)",
                }
            )
    for path, est in report.get("calls", {}).items():
        rows.append(
            {
                "node": path.split(".")[1],
                "key": f"visits to {est['to']}",
                "value": est["value"],
                "unit": "",
                "95% interval": _ci(est.get("ci95")),
                "R²": None,
                "how": est["how"],
                "from": est.get("basis", ""),
            }
        )
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["value"] = frame["value"].map(lambda v: f"{v:.4g}" if isinstance(v, float) else str(v))
        frame["R²"] = frame["R²"].map(lambda v: "" if v is None or v != v else f"{v:.3f}")
    return frame


def load_lines(report: dict) -> dict[str, str]:
    """The load at the entry as short texts: the planning rate and the growth with its interval."""
    load = report["load"]
    if load.get("mode") == "load_test":  # a load test: phases, no busy hour and no growth
        return {
            "peak": f"{load['peak_rps']:,.1f} req/s",
            "peak_note": f"the highest of {len(load['phases'])} steady phases",
            "growth": "not fitted",
            "growth_note": "a load test says nothing about growth",
            "mean": f"{load['mean_rps']:,.1f} req/s",
            "max": f"{load['max_rps']:,.1f} req/s",
        }
    growth = load.get("growth_pct_per_month")
    ci = load.get("growth_ci95")
    return {
        "peak": f"{load['peak_rps']:,.1f} req/s",
        "peak_note": f"p{load['peak_percentile']:g} of daily peaks",  # short: a metric's line is not wrapped
        "peak_help": (
            f"The {load['peak_percentile']:g}th percentile of each day's busiest hour over "
            f"{load['busy_hours']} days: the load the fitted scenario plans for (workload.rate_rps)."
        ),
        "growth": "not fitted" if growth is None else f"{growth:+.1f}%",
        "growth_note": (f"CI {ci[0]:+.1f} to {ci[1]:+.1f}%" if ci else "too few days"),
        "growth_help": (
            f"A month, with its 95% confidence interval, over {load['growth_days']} days: the trend of "
            "log hourly traffic with the daily and weekly cycles taken out (workload.growth_pct_per_month)."
            if ci
            else "Too few whole days of traffic for a trend."
        ),
        "mean": f"{load['mean_rps']:,.1f} req/s",
        "max": f"{load['max_rps']:,.1f} req/s",
    }


def validation_table(rows: list[dict]) -> pd.DataFrame:
    """Observed against predicted, MAPE, verdict and likely cause, one row per node and latency."""
    return pd.DataFrame(
        [
            {
                "what": r["what"],
                "unit": r["unit"],
                "observed mean": r["observed_mean"],
                "predicted mean": r["predicted_mean"],
                "observed busy hour": r["observed_busy_hour"],
                "predicted busy hour": r["predicted_busy_hour"],
                "MAPE %": r["mape_pct"],
                "verdict": r["verdict"],
                "likely cause": r.get("cause") or "",
            }
            for r in rows
        ]
    )


def validation_bars(rows: list[dict]) -> pd.DataFrame:
    """Long frame for side-by-side bars: what, when (mean / busy hour), series (observed / predicted), value."""
    out = []
    for r in rows:
        for when, suffix in (("mean", "mean"), ("busy hour", "busy_hour")):
            for series in ("observed", "predicted"):
                value = r[f"{series}_{suffix}"]
                if value is not None and math.isfinite(value):
                    out.append(
                        {
                            "what": r["what"],
                            "unit": r["unit"],
                            "when": when,
                            "series": series,
                            "value": value,
                            "verdict": r["verdict"],
                        }
                    )
    return pd.DataFrame(out)
