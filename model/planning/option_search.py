"""The recommender's search over the options of every node (model/planning/search_space.py).

Each node's options start at their cheapest stable one; while the queueing formulas say a risk rule
is broken, the upgrade that buys the most slack per dollar is taken (marginal allocation, the classic
greedy for server allocation, near-optimal because latency falls convexly in servers); then each node
is pushed back down to its cheapest option that still keeps the rules. Evaluations are cached by pick.
"""

from __future__ import annotations

import math

from model.planning.risk import Assessment, Rules, assess
from model.planning.search_space import KAFKA_CONSUMER_UTILIZATION, node_options, optimistic
from model.queueing.evaluate import evaluate
from model.queueing.results import Results
from model.scenario.schema import Scenario

MAX_STEPS = 400
SLO_ONLY = Rules(headroom_pct=100.0, zone_loss=False, zone_loss_why="turned off")


class Search:
    """Evaluations of option combinations, cached, at one rate, judged by the risk rules."""

    def __init__(self, scenario: Scenario, rate_rps: float, rules: Rules = SLO_ONLY):
        self.scenario, self.rate_rps, self.rules = scenario, rate_rps, rules
        self.eval_rate = None if scenario.workload.closed else rate_rps  # closed: evaluate the users
        self.names = list(scenario.nodes)
        widest = optimistic(scenario)
        consumers = min(KAFKA_CONSUMER_UTILIZATION, rules.headroom_pct / 100.0)
        self.options = {
            n: node_options(widest, n, rate_rps, consumer_utilization=consumers) for n in self.names
        }
        self.cache: dict[tuple[int, ...], Results] = {}
        self.assessed: dict[tuple[int, ...], Assessment] = {}
        self.feasible: dict[tuple[int, ...], float] = {}

    def build(self, pick: tuple[int, ...]) -> Scenario:
        nodes = dict(self.scenario.nodes)
        for name, k in zip(self.names, pick):
            nodes[name] = nodes[name].model_copy(update=self.options[name][k].peak)
        return self.scenario.model_copy(update={"nodes": nodes})

    def cost(self, pick: tuple[int, ...]) -> float:
        return sum(self.options[n][k].monthly for n, k in zip(self.names, pick))

    def analytic(self, pick: tuple[int, ...]) -> Results:
        if pick not in self.cache:
            self.cache[pick] = evaluate(self.build(pick), "analytic", rate_rps=self.eval_rate)
            if self.ok(pick):
                self.feasible[pick] = self.cost(pick)
        return self.cache[pick]

    def assess(self, pick: tuple[int, ...]) -> Assessment:
        if pick not in self.assessed:
            self.assessed[pick] = assess(
                self.build(pick), self.rate_rps, self.rules, self.analytic(pick), check_zone=False
            )
        return self.assessed[pick]

    def ok(self, pick: tuple[int, ...]) -> bool:
        """Meets the SLO (formulas) and every risk rule."""
        return self.assess(pick).safe

    def excess(self, pick: tuple[int, ...]) -> float:
        """Every rule as one ratio (<= 1: all kept); past saturation graded by the busiest pool's
        offered load, so that of two saturated configurations the less overloaded reads as closer."""
        return self.assess(pick).excess

    def upgrades(self, pick: tuple[int, ...]) -> list[tuple[int, ...]]:
        """For each node, the cheapest option with more capacity than its current one, and for a
        curve-sized cache also the cheapest with a higher hit ratio (more memory)."""
        out = []
        for i, name in enumerate(self.names):
            opts, cur = self.options[name], self.options[name][pick[i]]
            more = [lambda o: o.capacity > cur.capacity]  # noqa: B023 (called below, in this iteration)
            if cur.hit_ratio is not None:
                more.append(lambda o: o.hit_ratio is not None and o.hit_ratio > cur.hit_ratio)  # noqa: B023
            for better in more:
                nxt = next((k for k, o in enumerate(opts) if better(o) and o.monthly >= cur.monthly), None)
                cand = None if nxt is None else pick[:i] + (nxt,) + pick[i + 1 :]
                if cand is not None and cand not in out:
                    out.append(cand)
        return out


def greedy(search: Search) -> tuple[int, ...]:
    """The cheapest pick the formulas say keeps every rule, by marginal allocation then a push back down."""
    pick = tuple(0 for _ in search.names)
    for _ in range(MAX_STEPS):
        if search.ok(pick):
            break
        excess, cost = search.excess(pick), search.cost(pick)
        best, best_score = None, -math.inf
        for cand in search.upgrades(pick):
            gain = excess - search.excess(cand)
            score = gain / max(search.cost(cand) - cost, 1e-6)
            if score > best_score:
                best, best_score = cand, score
        if best is None:
            break
        pick = best
    # Push each node back down to its cheapest option that still meets the SLO.
    changed = search.ok(pick)
    while changed:
        changed = False
        for i, name in enumerate(search.names):
            for k in range(len(search.options[name])):
                if search.options[name][k].monthly >= search.options[name][pick[i]].monthly:
                    break
                cand = pick[:i] + (k,) + pick[i + 1 :]
                if search.ok(cand):
                    pick, changed = cand, True
                    break
    return pick
