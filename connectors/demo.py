"""The demo source: the default, so the app and the CLI work with no cloud account.

It serves the generated data set of `connectors.demo_data` for a scenario (by default
scenarios/checkout.yaml), through the same interface as the cloud sources. Its clock is the
data set's end, so "the last 14 days" always means the same two weeks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from connectors import demo_data
from connectors.base import MetricInfo, Query, concat, require_data, tidy
from connectors.errors import ConnectorError
from connectors.window import Window, align
from connectors.specs import DemoMetric

DEFAULT_SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "checkout.yaml"
_SUMMED_UNITS = ("Count",)  # aggregated to a coarser period by sum; everything else by mean


class DemoSource:
    """Two weeks of metrics generated from a scenario's own physics (connectors.demo_data), with known truths.

    The default source: it needs no account, and a fit of it can be checked against the scenario it came from."""

    name = "demo"

    def __init__(self, scenario: str | Path | None = None, seed: int = 7):
        self.scenario_path = Path(scenario) if scenario else DEFAULT_SCENARIO
        self.seed = seed

    def identity(self) -> str:
        return f"demo:{self.scenario_path}:{self.seed}"

    def data(self) -> tuple[pd.DataFrame, demo_data.DemoTruth]:
        """The wide data set and its truths (cached per scenario file and seed)."""
        try:
            text = self.scenario_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConnectorError(
                f"the demo scenario {self.scenario_path} cannot be read ({exc.__class__.__name__}).",
                "Set demo.scenario in the fit file to an existing scenario file.",
                source=self.name,
            ) from None
        return _generate(text, str(self.scenario_path), self.seed)

    def window(self, lookback: timedelta, period_s: int, end: datetime | None = None) -> Window:
        return align(lookback, period_s, end or demo_data.END)

    def discover(self, **_: Any) -> list[MetricInfo]:
        wide, truth = self.data()
        out = []
        for column in wide.columns:
            node, _, key = column.rpartition(".")
            out.append(
                MetricInfo(
                    self.name,
                    DemoMetric(series=column),
                    resource=node or "entry",
                    unit=truth.units[column],
                    suggested_key=key if node else column.split("_")[0],
                )
            )
        return out

    def fetch(
        self, queries: Sequence[Query], lookback: timedelta, period_s: int, *, end: datetime | None = None
    ) -> pd.DataFrame:
        if period_s % demo_data.PERIOD_S:
            raise ConnectorError(
                f"the demo data is at {demo_data.PERIOD_S} s; period_s {period_s} is not a multiple of it.",
                "Use period_s: 300 (or 600, 900, 3600...).",
                source=self.name,
            )
        wide, truth = self.data()
        window = self.window(lookback, period_s, end)
        frames = []
        for query in queries:
            column = query.metric.series  # type: ignore[attr-defined]
            if column not in wide.columns:
                raise ConnectorError(
                    f"the demo data has no series {column!r}.",
                    f"Use one of: {', '.join(wide.columns)}.",
                    source=self.name,
                )
            series = wide[column]
            series = series[(series.index >= window.start) & (series.index < window.end)]
            if period_s != demo_data.PERIOD_S and len(series):
                grouped = series.resample(f"{period_s}s", origin="epoch")
                series = grouped.sum() if truth.units[column] in _SUMMED_UNITS else grouped.mean()
            frames.append(
                tidy(
                    list(series.index),
                    [query.series] * len(series),
                    series.to_numpy(),
                    [truth.units[column]] * len(series),
                )
            )
        frame = concat(frames)
        require_data(frame, queries, window, self.name)
        return frame


@lru_cache(maxsize=4)
def _generate(text: str, name: str, seed: int) -> tuple[pd.DataFrame, demo_data.DemoTruth]:
    from model.scenario.reader import ScenarioError, scenario_from_text

    try:
        scenario = scenario_from_text(text, name)
    except ScenarioError as exc:
        raise ConnectorError(f"the demo scenario is invalid: {exc}", source="demo") from None
    if scenario.workload.closed:  # the demo's traffic is a day's shape scaled to an open peak rate
        raise ConnectorError(
            "the demo generates traffic at the scenario's workload.rate_rps; this one is closed (users)",
            "Use a scenario with rate_rps for the demo source.",
            source="demo",
        )
    return demo_data.generate(scenario, seed)
