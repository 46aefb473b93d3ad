"""What a fitted scenario carries about its own fit: how far its predictions were from the data.

A scenario written by `fit` is a model of one system over one window, and the fit's validation
says how well it reproduced what was observed there ("under-predicted busy-hour p99 by 33%").
That error belongs beside every prediction made from the model, in the app as in review, so it
travels in the file (contract: the `fitted` extension), machine-readable, not only in the fit's
report. The solvers, the cost model and the planner ignore it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from model.scenario.strict_model import Strict


class FitCheck(Strict):
    """One statistic the fit compared over the busiest periods: predicted against observed."""

    what: str = Field(min_length=1)  # as the fit's validation names it: "latency p99", "web utilization"
    unit: Literal["ms", "%"]
    at: Literal["busy hour", "top phase"] = "busy hour"  # the periods compared (a load test's top phase)
    rate_rps: float = Field(ge=0)  # the observed load at the entry over those periods
    observed: float = Field(gt=0)
    predicted: float = Field(ge=0)
    error_pct: float  # signed: 100 * (predicted - observed) / observed; negative is under-predicted
    mape_pct: float | None = Field(default=None, ge=0)  # over every compared period, not only the busiest


class FitRecord(Strict):
    """The `fitted` key: where the data came from, and each check of the validation."""

    source: str = Field(min_length=1)  # the fit file's source: demo, csv, cloudwatch, gcp, prometheus
    window: str = Field(min_length=1)  # the observed window, as the fit's report prints it
    method: Literal["analytic", "sim"] = "analytic"  # the solver the predictions came from
    checks: list[FitCheck] = Field(default_factory=list)
