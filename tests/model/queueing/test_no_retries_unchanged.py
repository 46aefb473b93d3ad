"""Without `workload.retries` every number is exactly what it was before client retries existed (issue 18).

`data/no_retries_golden.json` holds the `simulate --json` documents (through `evaluate`, priced, with
the solvers' cross-check) of the worked scenarios, by simulation (a request count and a timed run) and
by the analytic solver, as the code before retries printed them (commit 4e27bc2, same seeds). The
retries code must not move a single digit of them: no random number drawn, no key added.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.planning.report import json_safe
from model.queueing.evaluate import evaluate
from model.scenario.reader import load_scenario

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = json.loads((Path(__file__).parent / "data" / "no_retries_golden.json").read_text(encoding="utf-8"))

# (scenario file, method, seed, requests, duration_s)
CASES = [
    ("checkout.yaml", "sim", 11, 3000, None),
    ("three-tier.yaml", "sim", 5, 3000, None),
    ("kafka-consumers.yaml", "sim", 2, 3000, None),
    ("cache-db.yaml", "sim", 3, 3000, None),
    ("checkout.yaml", "analytic", None, 3000, None),
    ("three-tier.yaml", "analytic", None, 3000, None),
    ("kafka-consumers.yaml", "analytic", None, 3000, None),
    ("cache-db.yaml", "analytic", None, 3000, None),
    ("checkout.yaml", "sim", 4, 3000, 20.0),
    ("three-tier.yaml", "sim", 4, 3000, 20.0),
]


def case_id(case) -> str:
    name, method, seed, requests, duration = case
    return f"{name}:{method}:{seed}:{requests}:{duration}"


def document(case) -> dict:
    name, method, seed, requests, duration = case
    results = evaluate(
        load_scenario(ROOT / "scenarios" / name), method, seed=seed, requests=requests, duration_s=duration
    )
    return json.loads(json.dumps(json_safe(results.to_json())))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_scenario_without_retries_prints_exactly_what_it_printed_before(case):
    assert document(case) == GOLDEN[case_id(case)]
