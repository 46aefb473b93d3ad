"""The risk of a configuration: headroom, the loss of a zone, a known peak; graded low / medium / high.

A configuration that meets the SLO at the planning load can still be one spike or one lost zone
away from an outage, so the recommender searches by three rules and grades every option it shows,
the way cloud right-sizing tools grade a recommendation's performance risk:

- **headroom**: no pool busier than `headroom_pct` (default 75%) at the planning load. An
  autoscaled service adds pods to stay at its HPA target, so its CPU pool is judged by that target
  (or by its load at `max` replicas, when even `max` cannot bring it down to the target); every
  other pool by its utilization.
- **zone loss**: the SLO still met right after a third of every node's units is lost
  (`failures.zone_loss_scenario`: before any autoscaler replaces pods, a database's primary failing
  over). Required by default for a production-like scenario (`production_like`).
- **a known peak**: the SLO met at the highest load the scenario is known to see (`must_hold_rps`:
  a declared peak event, or `workload.observed_peak_rps`, the busiest hour of the observed data),
  autoscaled services at the replicas their HPA holds there (clamped to `max`). Only the SLO:
  headroom and zone loss are asked of ordinary days, not of the peak itself.

Grades: **high** when the SLO is missed at the planning load or at the known peak, a pool is at
90% or more, or a required zone loss is not survived; **medium** when a pool is above the headroom
target, or the SLO is met by less than 10% (the tightest target's margin); **low** otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from model.planning.autoscale import at_peak
from model.planning.failures import zone_loss_scenario
from model.queueing.evaluate import evaluate
from model.queueing.offered_load import offered_load
from model.queueing.results import Results
from model.queueing.topology import build_stations
from model.scenario.schema import CacheNode, DatabaseNode, KafkaNode, Scenario, ServiceNode

DEFAULT_HEADROOM_PCT = 75.0
HIGH_UTILIZATION = 0.90  # a pool this busy is high risk whatever the target: a spike saturates it
THIN_SLO_MARGIN_PCT = 10.0
SATURATED = 1e9  # slo_excess of a configuration that cannot keep up
LEVELS = ("low", "medium", "high")


def production_like(scenario: Scenario) -> bool:
    """Whether losing a zone must be survived unless the user says otherwise.

    The schema has no zones, so this reads intent from what the file declares: an SLO target, and
    some node run redundantly (a service with 2+ replicas or an HPA minimum of 2+, a database with a
    read replica, 2+ cache nodes, 2+ Kafka brokers). Redundancy is there to survive a failure; a
    scenario of single units (a laptop, a staging box) has nothing to lose a zone with."""
    slo = scenario.slo
    if not any(v is not None for v in (slo.p50_ms, slo.p95_ms, slo.p99_ms, slo.max_error_pct)):
        return False
    for node in scenario.nodes.values():
        if isinstance(node, ServiceNode) and (
            node.replicas >= 2 or (node.autoscale is not None and node.autoscale.min >= 2)
        ):
            return True
        if isinstance(node, DatabaseNode) and node.read_replicas >= 1:
            return True
        if isinstance(node, CacheNode) and node.nodes >= 2:
            return True
        if isinstance(node, KafkaNode) and node.brokers >= 2:
            return True
    return False


@dataclass(frozen=True)
class Rules:
    """What a configuration must do besides meeting the SLO at the planning load."""

    headroom_pct: float = DEFAULT_HEADROOM_PCT
    zone_loss: bool = True
    zone_loss_why: str = ""  # "production-like scenario", "asked for", "asked not to"
    must_hold_rps: float | None = None  # a known peak above the planning load
    must_hold_why: str = ""  # "a declared 3x peak event", "the observed peak"

    def to_json(self) -> dict[str, Any]:
        return {
            "headroom_target_pct": round(self.headroom_pct, 1),
            "zone_loss_required": self.zone_loss,
            "zone_loss_why": self.zone_loss_why,
            "must_hold_rps": None if self.must_hold_rps is None else round(self.must_hold_rps, 3),
            "must_hold_why": self.must_hold_why or None,
        }


def rules_for(
    scenario: Scenario,
    rate_rps: float,
    headroom_pct: float | None = None,
    zone_loss: bool | None = None,
    must_hold_rps: float | None = None,
    peak_factor: float | None = None,
) -> Rules:
    """The rules for one recommendation; None means the default (75%, zone loss if production-like).

    The known peak is the highest of: `must_hold_rps`, `peak_factor` x the planning load (a peak
    event declared as a multiple of the load), and `workload.observed_peak_rps`; it is kept only
    when above the planning load (otherwise the planning load already holds it)."""
    headroom = DEFAULT_HEADROOM_PCT if headroom_pct is None else float(headroom_pct)
    if not (math.isfinite(headroom) and 0 < headroom <= 100):
        raise ValueError(f"headroom_pct must be above 0 and at most 100 (got {headroom:g})")
    for name, value in (("must_hold_rps", must_hold_rps), ("peak_factor", peak_factor)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a number above 0 (got {value:g})")
    if zone_loss is None:
        zone = production_like(scenario)
        why = "production-like scenario" if zone else "no SLO target or nothing run redundantly"
    else:
        zone, why = bool(zone_loss), "asked for" if zone_loss else "turned off"
    peaks = []
    if must_hold_rps is not None:
        peaks.append((must_hold_rps, f"{must_hold_rps:,.1f} req/s asked to hold"))
    if peak_factor is not None:
        peaks.append((peak_factor * rate_rps, f"a declared {peak_factor:g}x peak event"))
    observed = scenario.workload.observed_peak_rps
    if observed is not None:
        peaks.append((observed, "the observed peak (workload.observed_peak_rps)"))
    top = max(peaks, default=None, key=lambda p: p[0])
    if top is not None and top[0] <= rate_rps * (1 + 1e-9):
        top = None
    return Rules(headroom, zone, why, None if top is None else top[0], "" if top is None else top[1])


def slo_excess(scenario: Scenario, r: Results) -> float:
    """How far past its targets a result is: the worst value/target ratio (<= 1 means met)."""
    slo, lat, worst = scenario.slo, r.latency_ms, 0.0
    for key in ("p50", "p95", "p99"):
        target = getattr(slo, f"{key}_ms")
        if target:
            worst = max(worst, getattr(lat, key) / target)
    if slo.max_error_pct is not None:
        worst = max(worst, r.error_pct / max(slo.max_error_pct, 1e-9))
    if r.saturated:
        worst = math.inf
    return worst if math.isfinite(worst) else SATURATED


def graded_excess(scenario: Scenario, rate_rps: float, r: Results) -> float:
    """slo_excess, graded past saturation by the busiest pool's offered load, so that of two
    saturated configurations the less overloaded one still reads as closer to the SLO."""
    if not r.saturated:
        return slo_excess(scenario, r)
    loads = offered_load(scenario, build_stations(scenario), rate_rps)
    return SATURATED * max(max((p.utilization for p in loads), default=1.0), 1.0)


def busiest_pool(scenario: Scenario, rate_rps: float) -> tuple[str, float, str]:
    """(pool, utilization, judged by) of the pool judged busiest for headroom (module docstring):
    judged by "utilization", or for an autoscaled service by "HPA target" or "HPA max"."""
    worst = ("", 0.0, "utilization")
    for p in offered_load(scenario, build_stations(scenario), rate_rps):
        node = scenario.nodes[p.node]
        u, how = p.utilization, "utilization"
        if isinstance(node, ServiceNode) and node.autoscale is not None and p.pool == p.node:
            target, at_max = node.autoscale.target_cpu_pct / 100.0, u * node.replicas / node.autoscale.max
            u, how = (target, "HPA target") if target >= at_max else (at_max, "HPA max")
        if u > worst[1]:
            worst = (p.pool, u, how)
    return worst


@dataclass(frozen=True)
class Assessment:
    """One configuration against the rules: each rule's evidence, the grade and why."""

    rules: Rules
    rate_rps: float
    planning: Results  # at the planning load (the configuration as evaluated)
    planning_excess: float
    pool: str  # the busiest pool for headroom
    utilization: float  # its utilization as judged for headroom (0..)
    judged_by: str = "utilization"  # or "HPA target" / "HPA max" (an autoscaled service)
    zone: Results | None = None  # right after a zone is lost (None: not checked)
    zone_excess: float = 0.0
    peak: Results | None = None  # at rules.must_hold_rps (None: no known peak above the planning load)
    peak_excess: float = 0.0
    slo_margin_pct: float = 0.0  # how far inside the tightest SLO target the planning load runs
    notes: list[str] = field(default_factory=list)

    @property
    def headroom_ok(self) -> bool:
        return self.utilization <= self.rules.headroom_pct / 100.0 + 1e-9

    @property
    def survives_zone_loss(self) -> bool | None:
        return None if self.zone is None else self.zone.slo.met

    @property
    def holds_peak(self) -> bool | None:
        return None if self.peak is None else self.peak.slo.met

    @property
    def excess(self) -> float:
        """Every rule as one ratio (<= 1: all kept), what the search drives down."""
        parts = [self.planning_excess, self.utilization / (self.rules.headroom_pct / 100.0)]
        if self.rules.zone_loss and self.zone is not None:
            parts.append(self.zone_excess)
        if self.peak is not None:
            parts.append(self.peak_excess)
        return max(parts)

    @property
    def safe(self) -> bool:
        """Meets the SLO, keeps the headroom, survives a zone loss when required, holds the known peak."""
        return (
            self.planning.slo.met
            and self.headroom_ok
            and (not self.rules.zone_loss or self.survives_zone_loss is not False)
            and self.holds_peak is not False
        )

    def graded(self) -> tuple[str, list[str]]:
        """(level, reasons): every reason that raised the level, then what was checked and held."""
        level, reasons, held = 0, [], []
        rules, u = self.rules, self.utilization
        pool = {
            "HPA target": f"{self.pool} (its HPA target)",
            "HPA max": f"{self.pool} (at its HPA max)",
        }.get(self.judged_by, self.pool)
        if not self.planning.slo.met:
            level = 2
            reasons.append(
                f"misses the SLO at {self.rate_rps:,.0f} req/s: " + "; ".join(self.planning.slo.violations)
            )
        if self.holds_peak is False:
            level = 2
            reasons.append(
                f"misses the SLO at the known peak of {rules.must_hold_rps:,.0f} req/s ({rules.must_hold_why})"
            )
        elif self.holds_peak:
            held.append(f"holds the known peak of {rules.must_hold_rps:,.0f} req/s ({rules.must_hold_why})")
        if u >= 1.0:
            level = 2
            reasons.append(f"{pool} saturated: {100 * u:.0f}% of its capacity is asked of it")
        elif u >= HIGH_UTILIZATION:
            level = 2
            reasons.append(f"{pool} {100 * u:.0f}% busy: a spike saturates it")
        elif not self.headroom_ok:
            level = max(level, 1)
            reasons.append(f"{pool} {100 * u:.0f}% busy, above the {rules.headroom_pct:g}% headroom target")
        else:
            held.append(f"busiest pool {pool} {100 * u:.0f}%, within the {rules.headroom_pct:g}% target")
        zone = self.survives_zone_loss
        if zone is False:
            why = "; ".join(self.zone.slo.violations) if self.zone else ""
            if rules.zone_loss:
                level = 2
                reasons.append(f"does not survive losing one zone ({why})")
            else:
                held.append(
                    f"would not survive losing one zone ({why}); not required ({rules.zone_loss_why})"
                )
        elif zone:
            held.append("survives losing one zone")
        if self.planning.slo.met and self.slo_margin_pct < THIN_SLO_MARGIN_PCT:
            level = max(level, 1)
            reasons.append(f"only {self.slo_margin_pct:.0f}% inside the tightest SLO target")
        return LEVELS[level], reasons + held + list(self.notes)

    @property
    def level(self) -> str:
        return self.graded()[0]

    def to_json(self) -> dict[str, Any]:
        level, reasons = self.graded()
        return {
            "level": level,
            "reasons": reasons,
            "safe": self.safe,
            "busiest_pool": self.pool,
            "busiest_utilization_pct": round(100 * self.utilization, 1),
            "busiest_judged_by": self.judged_by,
            "within_headroom": self.headroom_ok,
            "survives_zone_loss": self.survives_zone_loss,
            "holds_peak": self.holds_peak,
        }


def assess(
    scenario: Scenario,
    rate_rps: float,
    rules: Rules,
    planning: Results | None = None,
    check_zone: bool = True,
) -> Assessment:
    """`scenario` as it runs at the planning load (autoscaled services at the replicas their HPA
    holds there, its `autoscale` block as configured); `planning` its result there when already
    solved (analytic or simulated). Zone loss and the peak are solved analytically."""
    if planning is None:
        planning = evaluate(scenario, "analytic", rate_rps=rate_rps)
    pool, u, how = busiest_pool(scenario, rate_rps)
    excess = graded_excess(scenario, rate_rps, planning)
    margin = 100.0 * (1.0 - slo_excess(scenario, planning)) if planning.slo.met else 0.0
    zone = zone_excess = None
    if check_zone or rules.zone_loss:
        lost = zone_loss_scenario(scenario)
        zone = evaluate(lost, "analytic", rate_rps=rate_rps)
        zone_excess = graded_excess(lost, rate_rps, zone)
    notes = single_units(scenario) if rules.zone_loss and zone is not None else []
    peak = peak_excess = None
    if rules.must_hold_rps is not None:
        at = at_peak(scenario, rules.must_hold_rps)
        peak = evaluate(at, "analytic", rate_rps=rules.must_hold_rps)
        peak_excess = graded_excess(at, rules.must_hold_rps, peak)
    return Assessment(
        rules,
        rate_rps,
        planning,
        excess,
        pool,
        u,
        how,
        zone,
        zone_excess or 0.0,
        peak,
        peak_excess or 0.0,
        margin,
        notes,
    )


def single_units(scenario: Scenario) -> list[str]:
    """What the zone check assumes of a node with one unit (it keeps at least one of each): said
    beside the grade, so a survived zone loss is not read as more than it is."""
    out = []
    for name, node in scenario.nodes.items():
        if isinstance(node, DatabaseNode) and node.read_replicas == 0 and node.host is None:
            out.append(
                f"{name} runs one instance: the zone check assumes it fails over (a pause; see the failover what-if)"
            )
        elif isinstance(node, CacheNode) and node.nodes == 1 and node.host is None:
            out.append(
                f"{name} runs one node: the zone check keeps it (lost, every lookup misses until it is back)"
            )
    return out


def rules_text(rules: Rules) -> str:
    """The rules in words: 'keeps every pool under 75% and survives losing a zone'."""
    out = f"keeps every pool at or under {rules.headroom_pct:g}% busy"
    if rules.zone_loss:
        out += ", survives losing a zone"
    if rules.must_hold_rps is not None:
        out += f", holds {rules.must_hold_rps:,.0f} req/s ({rules.must_hold_why})"
    return out


def verdict(
    slo_met: bool,
    risk: Assessment | None,
    today: Assessment | None,
    saving_monthly: float,
    changed: bool,
    currency: str = "USD",
) -> str:
    """The recommendation in one sentence: a safe saving, no safe saving, or nothing safe found."""
    from model.planning.report import money

    if not slo_met:
        return "No configuration searched meets the SLO; the closest one is shown."
    if risk is None:
        return "Meets the SLO."
    rules = rules_text(risk.rules)
    level = risk.level
    if not risk.safe:
        return (
            f"No configuration searched meets the SLO and {rules}; the closest one is shown "
            f"({level} risk: {'; '.join(risk.graded()[1][:2])})."
        )
    if not changed:
        return f"Today's setup is already the cheapest that meets the SLO and {rules} ({level} risk)."
    if saving_monthly > 0.005:
        return f"Saves {money(saving_monthly, currency)} a month at {level} risk: meets the SLO and {rules}."
    if today is not None and today.safe:
        return (
            f"Keep today's setup: it already meets the SLO and {rules}, for less than anything else "
            f"the search found that does ({today.level} risk)."
        )
    problems = today.graded()[1][:1] if today is not None else []
    why = f" Today: {problems[0]}." if problems else ""
    return (
        f"No saving is safe: the cheapest configuration that meets the SLO and {rules} costs "
        f"{money(-saving_monthly, currency)} a month more than today's.{why}"
    )
