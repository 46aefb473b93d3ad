"""The fit's validation as the fitted scenario carries it: the `fitted` key (model.scenario.fitted).

Each validation row whose busiest periods were both observed and predicted becomes one check:
the observed and predicted values over those periods, the load there, and the signed error
(the busy hour is where capacity is decided, so that is the error a prediction inherits).
"""

from __future__ import annotations

import math
from typing import Any

from model.fit.validate import Validation


def fit_record(validation: Validation, source: str) -> dict[str, Any] | None:
    """The document's `fitted` mapping (plain types, ready for YAML), or None with nothing compared."""
    checks = []
    for row in validation.rows:
        observed, predicted = row.observed_busy_hour, row.predicted_busy_hour
        if not (math.isfinite(observed) and math.isfinite(predicted) and observed > 0 and predicted >= 0):
            continue
        check: dict[str, Any] = {
            "what": row.what,
            "unit": row.unit,
            "at": row.peak,
            "rate_rps": _sig(row.busy_hour_rps) if math.isfinite(row.busy_hour_rps) else 0.0,
            "observed": _sig(observed),
            "predicted": _sig(predicted),
            "error_pct": round(error_pct(observed, predicted), 1),
        }
        if row.mape_pct is not None and math.isfinite(row.mape_pct):
            check["mape_pct"] = round(row.mape_pct, 1)
        checks.append(check)
    if not checks:
        return None
    return {
        "source": source,
        "window": f"{validation.start} to {validation.end}",
        "method": validation.method,
        "checks": checks,
    }


def error_pct(observed: float, predicted: float) -> float:
    """Signed relative error of a prediction, in percent: negative when the model predicted too little."""
    return 100.0 * (predicted - observed) / observed


def _sig(value: float) -> float:
    return float(f"{value:.4g}")
