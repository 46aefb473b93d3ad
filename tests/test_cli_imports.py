"""Start-up guard: each command imports only what it uses. A heavy library (seconds of
start-up between them) coming back into a command that does not need it fails here;
benchmarks/cli_startup.py measures what that saves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "scipy", "scipy.stats", "streamlit", "boto3", "google.cloud", "dask", "pyarrow")

# Runs the command's main path in a fresh interpreter, then reports what got imported.
PROBE = """
import contextlib, io, json, sys
sys.path.insert(0, {root!r})
import cli
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = cli.main({argv!r})
    except SystemExit as exc:   # --help exits
        code = exc.code
print(json.dumps({{"code": code, "heavy": sorted(m for m in {heavy!r} if m in sys.modules)}}))
"""


def _imports(*argv: str) -> dict:
    script = PROBE.format(root=str(ROOT), argv=list(argv), heavy=HEAVY)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


CHECKOUT = "scenarios/checkout.yaml"


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["simulate", CHECKOUT, "--method", "analytic", "--json"],
        ["simulate", CHECKOUT, "--json", "--requests", "2000", "--seed", "1"],
        ["simulate", CHECKOUT, "--set", "nodes.web.replicas=lots"],  # bad input: exit 2, still light
        ["simulate", "scenarios/retry-storm.yaml", "--json", "--duration", "20", "--burst", "2,5,5"],
        ["forecast", CHECKOUT, "--months", "2", "--json"],
        ["forecast", CHECKOUT, "--months", "2", "--budget", "1500", "--start", "2027-01"],
        ["recommend", "scenarios/three-tier.yaml", "--json"],
        ["whatif", CHECKOUT, "--failure", "zone", "--method", "analytic", "--json"],
        ["diff", CHECKOUT, "scenarios/three-tier.yaml", "--markdown"],
        ["users", "scenarios/checkout-users.yaml", "--json"],
        ["ramp", "scenarios/checkout-users.yaml", "--steps", "2", "--step-s", "5", "--json"],
        ["simulate", CHECKOUT, "--users", "40", "--json", "--requests", "2000", "--seed", "1"],
        ["peak", CHECKOUT, "--factor", "2", "--requests", "2000", "--json"],
    ],
)
def test_commands_that_do_not_need_a_heavy_library_do_not_import_it(argv):
    seen = _imports(*argv)
    assert seen["heavy"] == [], f"{' '.join(argv)} imported {seen['heavy']}"
    assert seen["code"] in (0, 2)


def test_the_probe_sees_a_heavy_import(tmp_path):
    """The guard can fail: a scenario that replays a trace does need pandas, and the probe sees it."""
    trace = tmp_path / "trace.csv"
    trace.write_text("timestamp,rate_rps\n2024-01-01T00:00:00Z,100\n2024-01-01T00:05:00Z,120\n")
    scenario = tmp_path / "checkout.yaml"  # a trace lives beside its scenario (docs/security.md)
    scenario.write_text((ROOT / CHECKOUT).read_text())
    seen = _imports(
        "simulate",
        str(scenario),
        "--json",
        "--requests",
        "2000",
        "--set",
        "workload.arrivals=trace",
        "--set",
        "workload.trace=trace.csv",
    )
    assert seen["code"] == 0 and "pandas" in seen["heavy"]


# The project's own parts a command has no use for: the metric sources and the fit (only `fit`
# and a ramp beside a user's load test read them), the simulator (only --method sim), and the
# closed-workload solver (only workload.users). Each costs start-up a pull-request check pays.
PROBE_PARTS = PROBE.replace(
    "sorted(m for m in {heavy!r} if m in sys.modules)",
    "sorted({{m.split('.')[0] if m.startswith('connectors') else m for m in sys.modules if m in {heavy!r} "
    "or m.startswith('connectors') or m.startswith({parts!r})}})",
)
UNNEEDED = ("model.fit", "model.queueing.sim", "model.queueing.closed_network", "model.queueing.mva")


def _parts(*argv: str) -> list[str]:
    script = PROBE_PARTS.format(root=str(ROOT), argv=list(argv), heavy=HEAVY, parts=UNNEEDED)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])["heavy"]


@pytest.mark.parametrize(
    "argv",
    [
        ["diff", CHECKOUT, "scenarios/three-tier.yaml", "--markdown"],
        ["simulate", CHECKOUT, "--method", "analytic", "--json"],
        ["forecast", CHECKOUT, "--months", "2", "--json"],
    ],
)
def test_an_analytic_command_loads_only_the_parts_it_uses(argv):
    assert _parts(*argv) == [], f"{' '.join(argv)} loaded parts it does not use"


def test_the_parts_probe_sees_what_a_command_does_use(tmp_path):
    """The guard can fail: `fit --dump` reads a source, a simulation loads the simulator, and a
    closed workload loads mean-value analysis; the probe sees each."""
    assert "connectors" in _parts("fit", "--source", "demo", "--dump", str(tmp_path / "series.csv"))
    assert "model.queueing.sim" in _parts("simulate", CHECKOUT, "--json", "--requests", "2000", "--seed", "1")
    assert "model.queueing.closed_network" in _parts("users", "scenarios/checkout-users.yaml", "--json")
