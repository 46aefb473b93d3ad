"""The Cost page's controls (commitment, horizon, budget, growth, commitment baseline) as link parameters.

A finance reviewer shares the view they budgeted from: the link must reopen the same
commitment, horizon, budget, growth and baseline, as it reopens the what-if changes. Each
control is one query parameter (`cost_commitment=1yr&cost_horizon=24&cost_budget=2000...`),
written only when it differs from the page's default, so a plain link stays short.

Anyone can open a link, so every value is checked before the page uses it: one value per
key (the last), a short string, a plain decimal (no exponent, NaN or infinity), inside the
control's range, a commitment from the list. A value that fails is dropped with one message
naming it (echoed through `guard.echo`), and the rest of the link still opens. Plain
functions only: no Streamlit here, so all of it is tested without a browser.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from typing import Any

COMMITMENT_KEYS = ("on_demand", "1yr", "3yr")
MAX_VALUE_CHARS = 24  # a number or a commitment name; anything longer is not one
MAX_BASELINE_CHARS = 8_000  # the baseline's JSON: {node: units} for up to MAX_BASELINE_NODES nodes
MAX_BASELINE_NODES = 200  # the app's node limit (guard.MAX_NODES)
MAX_BASELINE_UNITS = 10_000  # units of one node (guard.MAX_COUNT)
_DECIMAL = re.compile(r"-?\d{1,10}(\.\d{1,6})?")

PREFIX = "cost_"


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    integer: bool = False
    what: str = "a number"

    def text(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} from {self.low:,g} to {self.high:,g}"


# The bounds a link may ask for: wide enough for any real plan, narrow enough that no value
# makes the page do unbounded work (the horizon sets how many months are solved).
RANGES = {
    "horizon": Range(1, 120, integer=True),  # the schema's horizon_months bound
    "budget": Range(0, 1e9),  # USD a month; 0 is "no budget"
    "growth": Range(-50, 100),  # % a month
}


@dataclass(frozen=True)
class CostSettings:
    """What the Cost page's controls hold; None is "the default" (the scenario's own, or the model's)."""

    commitment: str | None = None  # on_demand, 1yr or 3yr; None: the scenario's pricing.commitment
    horizon: int | None = None  # months; None: the scenario's workload.horizon_months
    budget: float | None = None  # USD a month; None: the page's suggestion; 0: no budget
    growth: float | None = None  # % a month overriding the scenario's (or fitted) growth; None: no override
    # the commitment's baseline, (node, whole units) pairs for the nodes set by hand; None: the model's
    # default sizing (`model.planning.bill.default_baseline`) for every node
    baseline: tuple[tuple[str, int], ...] | None = None

    def baseline_units(self, nodes) -> dict[str, int]:
        """The hand-set baseline for the nodes the scenario has (a link may name others: ignored)."""
        return {n: u for n, u in (self.baseline or ()) if n in nodes}


NAMES = tuple(f.name for f in fields(CostSettings))


def encode(settings: CostSettings) -> dict[str, str]:
    """Query parameters for the values that are set (None stays out of the link)."""
    out = {}
    for name in NAMES:
        value = getattr(settings, name)
        if value is None:
            continue
        if name == "baseline":
            out[PREFIX + name] = json.dumps(dict(value), sort_keys=True, separators=(",", ":"))
        else:
            out[PREFIX + name] = value if isinstance(value, str) else _number_text(value)
    return out


def _number_text(value: float) -> str:
    """`12`, `2000`, `8.5`: no float noise, no exponent (decode reads plain decimals only)."""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def decode(params: dict[str, list[str]]) -> tuple[CostSettings, list[str]]:
    """The settings a link carries, and one message per value that was ignored (and why)."""
    from streamlit_ui import guard

    values: dict[str, Any] = {}
    problems = []
    for name in NAMES:
        given = params.get(PREFIX + name)
        if not given:
            continue
        raw = str(given[-1])
        try:
            values[name] = _baseline(raw) if name == "baseline" else _parse(name, raw)
        except ValueError as exc:
            problems.append(f"Ignored the link's {PREFIX}{name}={guard.echo(raw)!r}: expected {exc}.")
    return CostSettings(**values), problems


def _parse(name: str, raw: str) -> Any:
    text = raw.strip()
    if name == "commitment":
        if text not in COMMITMENT_KEYS:
            raise ValueError("one of " + ", ".join(COMMITMENT_KEYS))
        return text
    bounds = RANGES[name]
    if len(text) > MAX_VALUE_CHARS or not _DECIMAL.fullmatch(text):
        raise ValueError(bounds.text())
    value = float(text)
    if not bounds.low <= value <= bounds.high or (bounds.integer and not value.is_integer()):
        raise ValueError(bounds.text())
    return int(value) if bounds.integer else value


def _baseline(raw: str) -> tuple[tuple[str, int], ...]:
    """`{"web": 2, "db": 1}`: node names to whole units, bounded in size and count."""
    expected = f"a JSON object of node names to whole units from 0 to {MAX_BASELINE_UNITS:,}"
    if len(raw) > MAX_BASELINE_CHARS:
        raise ValueError(expected + f", at most {MAX_BASELINE_CHARS:,} characters")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError(expected) from None
    if not isinstance(data, dict) or len(data) > MAX_BASELINE_NODES:
        raise ValueError(expected)
    out = []
    for node, units in data.items():
        if (
            not isinstance(units, int)
            or isinstance(units, bool)
            or not 0 <= units <= MAX_BASELINE_UNITS
            or len(node) > 200
        ):
            raise ValueError(expected)
        out.append((node, units))
    return tuple(sorted(out))


def is_cost_key(key: str) -> bool:
    return key.startswith(PREFIX) and key[len(PREFIX) :] in NAMES
