"""Which monthly growth a plan uses, where it comes from, and how sure it is.

The fit writes the growth it measured and its 90% interval under `workload.growth_fit`
(model/fit/pipeline.py); a scenario typed by hand has only `growth_pct_per_month`. Forecasts,
spend tables and exports state which growth they use: the user's override, the fitted one (with
its band) or the one given in the file.

API (stable names): `GrowthInUse` (`pct_per_month`, `source` "override" | "fitted" | "given",
`band_pct` (90% low, high) or None, `fitted_pct`, `days`, `sentence()`, `to_json()`),
`growth_in_use(scenario, override_pct=None)`, `with_growth(scenario, pct)`, `sd_from_band(band)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.scenario.schema import Scenario

Z90 = 1.645  # a normal 90% interval is mean +/- 1.645 sd (the forecast's BAND_Z)


@dataclass(frozen=True)
class GrowthInUse:
    pct_per_month: float
    source: str  # override | fitted | given
    band_pct: tuple[float, float] | None = None  # the fit's 90% interval, when there is one
    fitted_pct: float | None = None  # what the fit measured (also when another growth is in use)
    days: int | None = None  # days of traffic the fit measured it over

    def sentence(self) -> str:
        """e.g. "growth 9% a month, fitted from 14 days of traffic (90% band 7.4% to 10.5%)"."""
        text = f"growth {self.pct_per_month:g}% a month"
        if self.source == "fitted":
            text += f", fitted from {self.days} days of traffic" if self.days else ", fitted"
        elif self.source == "override":
            text += ", set by the user"
        else:
            text += ", as given in the scenario"
        if self.band_pct is not None:
            text += f" (90% band of the fit {self.band_pct[0]:g}% to {self.band_pct[1]:g}%"
            if self.source != "fitted" and self.fitted_pct is not None:
                text += f"; the fit measured {self.fitted_pct:g}%"
            text += ")"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "pct_per_month": self.pct_per_month,
            "source": self.source,
            "band_pct": None if self.band_pct is None else list(self.band_pct),
            "fitted_pct": self.fitted_pct,
            "days": self.days,
        }


def growth_in_use(scenario: Scenario, override_pct: float | None = None) -> GrowthInUse:
    """The growth a plan of this scenario uses: `override_pct` when given, else the file's, which is
    "fitted" while it still equals what the fit wrote under `workload.growth_fit`."""
    w = scenario.workload
    fit = w.growth_fit
    band = None if fit is None else (fit.low_pct, fit.high_pct)
    fitted = None if fit is None else fit.pct_per_month
    days = None if fit is None else fit.days
    if override_pct is not None:
        if not override_pct > -100:
            raise ValueError(f"growth must be above -100% a month (got {override_pct:g})")
        return GrowthInUse(float(override_pct), "override", band, fitted, days)
    if fit is not None and abs(fit.pct_per_month - w.growth_pct_per_month) < 1e-9:
        return GrowthInUse(w.growth_pct_per_month, "fitted", band, fitted, days)
    return GrowthInUse(w.growth_pct_per_month, "given", band, fitted, days)


def with_growth(scenario: Scenario, pct_per_month: float) -> Scenario:
    """The scenario growing at `pct_per_month` (the fit's record is kept, so the source stays known)."""
    workload = scenario.workload.model_copy(update={"growth_pct_per_month": float(pct_per_month)})
    return scenario.model_copy(update={"workload": workload})


def sd_from_band(band_pct: tuple[float, float]) -> float:
    """The standard deviation a 90% band implies (half its width over 1.645): what `forecast`'s
    `growth_sd_pct` takes, so the forecast's band is the fit's."""
    return (band_pct[1] - band_pct[0]) / (2 * Z90)
