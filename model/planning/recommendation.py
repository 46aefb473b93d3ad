"""What the recommender answers: the winner (`Recommendation`), the configurations it weighed
(`Candidate`), and how both read as the contract's JSON and as the CLI's text.

Plain data; the search that fills it is `model/planning/recommend.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from model.planning.report import money, ms, round_or_inf, table
from model.planning.risk import Assessment, Rules, verdict
from model.planning.search_space import Option
from model.queueing.results import Results, SloCheck


@dataclass(frozen=True)
class Candidate:
    options: tuple[Option, ...]
    monthly: float
    results: Results | None = None  # the simulation, once run
    changes_override: dict[str, Any] | None = None
    risk: Assessment | None = None

    @property
    def changes(self) -> dict[str, Any]:
        if self.changes_override is not None:
            return self.changes_override
        return {f"nodes.{o.node}.{k}": v for o in self.options for k, v in o.changes.items()}


@dataclass(frozen=True)
class Recommendation:
    scenario: str
    rate_rps: float
    months: int
    changes: dict[str, Any]
    monthly: float
    baseline_monthly: float
    results: Results  # the winner's simulation
    slo: SloCheck
    headroom_pct: float  # how far inside the tightest SLO target the winner runs
    zone_loss: SloCheck | None  # the winner with a third of each node lost
    runners_up: list[Candidate] = field(default_factory=list)
    baseline_slo: SloCheck | None = None
    notes: list[str] = field(default_factory=list)
    currency: str = "USD"
    rules: Rules | None = None  # the risk rules searched by (model/planning/risk.py)
    risk: Assessment | None = None  # the winner against them
    baseline_risk: Assessment | None = None  # today's setup against them
    riskier: Candidate | None = None  # the cheapest that only meets the SLO, when cheaper and not safe

    @property
    def safe(self) -> bool:
        return self.slo.met and (self.risk is None or self.risk.safe)

    @property
    def verdict(self) -> str:
        return verdict(
            self.slo.met,
            self.risk,
            self.baseline_risk,
            self.baseline_monthly - self.monthly,
            bool(self.changes),
            self.currency,
        )

    def to_json(self) -> dict[str, Any]:
        lat = self.results.latency_ms
        return {
            "changes": self.changes,
            "monthly": round(self.monthly, 2),
            "baseline_monthly": round(self.baseline_monthly, 2),
            "latency_ms": {"p95": round_or_inf(lat.p95), "p99": round_or_inf(lat.p99)},
            "slo": self.slo.to_json(),
            "savings_monthly": round(self.baseline_monthly - self.monthly, 2),
            "rate_rps": round(self.rate_rps, 3),
            "months": self.months,
            "currency": self.currency,
            "risk": {
                **(self.risk.to_json() if self.risk else {}),
                "slo_headroom_pct": round(self.headroom_pct, 1),
                "survives_zone_loss": None if self.zone_loss is None else self.zone_loss.met,
                "zone_loss_violations": [] if self.zone_loss is None else list(self.zone_loss.violations),
            },
            "baseline_slo": None if self.baseline_slo is None else self.baseline_slo.to_json(),
            "runners_up": [
                {
                    "changes": c.changes,
                    "monthly": round(c.monthly, 2),
                    "latency_ms": {"p99": round_or_inf(c.results.latency_ms.p99)} if c.results else None,
                    "slo_met": c.results.slo.met if c.results else None,
                    "risk": c.risk.to_json() if c.risk else None,
                }
                for c in self.runners_up
            ],
            "notes": list(self.notes),
            **self._risk_json(),
        }

    def _risk_json(self) -> dict[str, Any]:
        """The keys issue 13 added (contract: recommend's risk extension)."""
        riskier = self.riskier
        return {
            "safe": self.safe,
            "verdict": self.verdict,
            "rules": self.rules.to_json() if self.rules else None,
            "baseline_risk": self.baseline_risk.to_json() if self.baseline_risk else None,
            "riskier_cheaper": None
            if riskier is None
            else {
                "changes": riskier.changes,
                "monthly": round(riskier.monthly, 2),
                "savings_monthly": round(self.baseline_monthly - riskier.monthly, 2),
                "risk": riskier.risk.to_json() if riskier.risk else None,
            },
        }

    def to_text(self) -> str:
        when = "today's load" if self.months == 0 else f"the load in {self.months} months"
        out = [f"{self.scenario}: cheapest configuration for {when} ({self.rate_rps:,.1f} requests/s)", ""]
        out += [self.verdict, ""]  # "No configuration searched meets the SLO; ..." when none does
        rows = [[k, str(v)] for k, v in self.changes.items()] or [["(no change)", ""]]
        out += [table(["change", "to"], rows), ""]
        saving = self.baseline_monthly - self.monthly
        verb = "saves" if saving >= 0 else "costs"
        out.append(
            f"Monthly   {money(self.monthly, self.currency)} (now {money(self.baseline_monthly, self.currency)}; "
            f"{verb} {money(abs(saving), self.currency)} a month)"
        )
        lat = self.results.latency_ms
        out.append(
            f"Latency   p95 {ms(lat.p95)}   p99 {ms(lat.p99)}   errors {self.results.error_pct:.3f}% (simulated)"
        )
        out.append("SLO       " + ("met" if self.slo.met else "NOT met: " + "; ".join(self.slo.violations)))
        zone = (
            "not checked"
            if self.zone_loss is None
            else (
                "survives"
                if self.zone_loss.met
                else "does NOT survive (" + "; ".join(self.zone_loss.violations) + ")"
            )
        )
        out.append(
            f"Risk      {self.headroom_pct:.0f}% inside the tightest SLO target; losing one zone: {zone}"
        )
        if self.risk is not None:
            level, reasons = self.risk.graded()
            out.append(f"Grade     {level}: " + "; ".join(reasons))
        if self.baseline_risk is not None:
            level, reasons = self.baseline_risk.graded()
            out.append(f"Today     {level} risk: " + "; ".join(reasons))
        if self.riskier is not None and self.riskier.risk is not None:
            level, reasons = self.riskier.risk.graded()
            saving = self.baseline_monthly - self.riskier.monthly
            changes = ", ".join(f"{k}={v}" for k, v in self.riskier.changes.items()) or "(no change)"
            verb = "saves" if saving >= 0 else "costs"
            out.append(
                f"Not offered: {changes} ({money(self.riskier.monthly, self.currency)} a month, {verb} "
                f"{money(abs(saving), self.currency)}): {level} risk, " + "; ".join(reasons[:2])
            )
        if self.runners_up:
            out += ["", "Runners-up:"]
            out.append(
                table(
                    ["monthly", "p99", "SLO", "risk", "changes"],
                    [
                        [
                            money(c.monthly, self.currency),
                            ms(c.results.latency_ms.p99) if c.results else "-",
                            ("met" if c.results.slo.met else "missed") if c.results else "-",
                            c.risk.level if c.risk else "-",
                            ", ".join(f"{k}={v}" for k, v in c.changes.items()) or "(none)",
                        ]
                        for c in self.runners_up
                    ],
                )
            )
        out += [f"Note      {n}" for n in self.notes]
        return "\n".join(out)
