"""Hostile and unlucky input to the CLI: every case exits 2 with one line, fast, within the caps,
and never prints the canary secret in its environment (issue 17).

Each case runs cli.py in its own process under a memory cap (RLIMIT_AS) and a CPU cap, so
a bound that is checked too late fails here as a kill or a timeout, not as a slow test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.security.hostile import CANARY, ROOT, Zygotes, run_cli

BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
        for i in range(8)
    ]
)


def _chain_yaml(hops: int, visits: float, method_note: str = "") -> str:
    lines = ["version: 1", "name: chain", "workload: {rate_rps: 1}", "entry: n0", "nodes:"]
    for i in range(hops):
        call = f", calls: [{{to: n{i + 1}, visits: {visits}}}]" if i + 1 < hops else ""
        lines.append(f"  n{i}: {{kind: service, replicas: 4, service_ms: 0.01{call}}}")
    return "\n".join(lines) + "\n"


def _wide_yaml(nodes: int) -> str:
    lines = ["version: 1", "name: wide", "workload: {rate_rps: 1}", "entry: n0", "nodes:"]
    lines += [f"  n{i}: {{kind: service, service_ms: 1}}" for i in range(nodes)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A scenario folder as a user would have it, with hostile files beside the good ones."""
    here = tmp_path_factory.mktemp("hostile")
    for name in ("checkout.yaml", "kafka-consumers.yaml"):
        shutil.copy(ROOT / "scenarios" / name, here / name)
    (here / "bomb.yaml").write_text(BOMB + "\n")
    (here / "deep.yaml").write_text("version: 1\nname: " + "[" * 1000 + "]" * 1000 + "\n")
    (here / "chain500.yaml").write_text(_chain_yaml(500, 1))
    (here / "multiply.yaml").write_text(_chain_yaml(30, 10))
    (here / "wide.yaml").write_text(_wide_yaml(10_000))
    (here / "secret.csv").write_text(f"timestamp,rate_rps\n{CANARY},1\n")
    (here / "inf.csv").write_text("timestamp,rate_rps\n2024-01-01 00:00:00,1\n2024-01-01 00:01:00,inf\n")
    outside = here.parent / f"{here.name}-outside"
    outside.mkdir()
    (outside / "load.csv").write_text(f"timestamp,rate_rps\n{CANARY},1\n")
    (here / "link.csv").symlink_to(outside / "load.csv")
    checkout = (ROOT / "scenarios" / "checkout.yaml").read_text()
    for name, trace in (
        ("environ", "/proc/self/environ"),
        ("dotdot", "../x/../etc/passwd"),
        ("symlink", "link.csv"),
        ("secret", "secret.csv"),
        ("zero", "/dev/zero"),
        ("inf", "inf.csv"),
    ):
        (here / f"trace-{name}.yaml").write_text(
            checkout.replace("arrivals: poisson", "arrivals: trace").replace("trace: null", f"trace: {trace}")
        )
    (here / "fit-bomb.yaml").write_text(BOMB + "\n")
    for name, file in (("environ", "/proc/self/environ"), ("zero", "/dev/zero")):
        (here / f"fit-csv-{name}.yaml").write_text(
            f"version: 1\nsource: csv\ntraffic: {{metric: {{file: {file}, column: requests}}}}\nentry: web\n"
            f"nodes: {{web: {{kind: service, cpu: {{file: {file}, column: cpu}}}}}}\n"
        )
    (here / "fit-deep.yaml").write_text("version: 1\ntraffic: " + "{a: " * 1000 + "1" + "}" * 1000 + "\n")
    return here


S = "checkout.yaml"
K = "kafka-consumers.yaml"
TRACE = ["--set", "workload.arrivals=trace"]

# (id, argv, a word the one-line message must contain[, environment])
CASES = [
    ("alias bomb", ["simulate", "bomb.yaml"], "aliases"),
    (
        "alias bomb in --set",
        ["simulate", S, "--set", "name=" + BOMB.replace("\n", ", ").join("{}")],
        "aliases",
    ),
    ("1000-deep nesting", ["simulate", "deep.yaml"], "nested deeper"),
    ("1000-deep --set value", ["simulate", S, "--set", "name=" + "[" * 1000 + "]" * 1000], "nested deeper"),
    ("500-node chain, analytic", ["simulate", "chain500.yaml", "--method", "analytic"], "HEADROOM_MAX_NODES"),
    ("10 visits x 30 hops", ["simulate", "multiply.yaml"], "HEADROOM_MAX_VISITS"),
    ("10,000 nodes", ["simulate", "wide.yaml", "--method", "analytic"], "HEADROOM_MAX_YAML_NODES"),
    (
        "500-node chain, limits raised",
        ["simulate", "chain500.yaml", "--method", "analytic"],
        "HEADROOM_MAX_CALL_DEPTH",
        {"HEADROOM_MAX_NODES": "1000"},
    ),
    (
        "trace /proc/self/environ via --set",
        ["simulate", S, *TRACE, "--set", "workload.trace=/proc/self/environ"],
        "relative",
    ),
    ("trace /proc/self/environ in the file", ["simulate", "trace-environ.yaml"], "relative"),
    ("trace with ..", ["simulate", "trace-dotdot.yaml"], ".."),
    ("trace through a symlink out", ["simulate", "trace-symlink.yaml"], "outside"),
    ("trace that is not a trace", ["simulate", "trace-secret.yaml"], "fewer than two"),
    ("trace /dev/zero", ["simulate", "trace-zero.yaml"], "relative"),
    ("trace with an inf rate", ["simulate", "trace-inf.yaml"], "infinite"),
    ("scenario /dev/zero", ["simulate", "/dev/zero"], "regular file"),
    ("scenario /proc/self/environ", ["simulate", "/proc/self/environ"], "environ"),
    ("read_ms 1e308", ["simulate", S, "--set", "nodes.db.read_ms=1e308"], "HEADROOM_MAX_MS"),
    (
        "read_ms 1e308 analytic",
        ["simulate", S, "--method", "analytic", "--set", "nodes.db.read_ms=1e308"],
        "read_ms",
    ),
    ("consume_ms 1e308", ["simulate", K, "--set", "nodes.events.consume_ms=1e308"], "consume_ms"),
    ("rate 1e308", ["simulate", S, "--rate", "1e308"], "rate"),
    (
        "partitions 1e9",
        ["simulate", K, "--set", "nodes.events.partitions=1000000000"],
        "HEADROOM_MAX_PARTITIONS",
    ),
    ("replicas 1e9", ["simulate", S, "--set", "nodes.web.replicas=1000000000"], "HEADROOM_MAX_REPLICAS"),
    ("cpus 1e9", ["simulate", S, "--set", "nodes.db.cpus=1000000000"], "HEADROOM_MAX_CPUS"),
    ("cache nodes 1e9", ["simulate", S, "--set", "nodes.cache.nodes=1000000000"], "HEADROOM_MAX_REPLICAS"),
    (
        "consumers 1e9",
        ["simulate", K, "--set", "nodes.events.consumers=1000000000"],
        "HEADROOM_MAX_CONSUMERS",
    ),
    (
        "concurrency 1e9",
        ["simulate", S, "--set", "nodes.web.concurrency=1000000000"],
        "HEADROOM_MAX_CONCURRENCY",
    ),
    ("replicas: true", ["simulate", S, "--set", "nodes.web.replicas=true"], "not true or false"),
    ("ANSI in a node name", ["simulate", S, "--set", "entry=\x1b[31mweb"], "\\x1b"),
    ("ANSI in the name", ["simulate", S, "--set", "name=\x1b[2J\x1b[31mowned"], "control characters"),
    (
        "huge --set value",
        ["simulate", S, "--set", "nodes.web.replicas=" + "[1, " * 200 + "1" + "]" * 200],
        "nested",
    ),
    ("--requests 1e12", ["simulate", S, "--requests", "1000000000000"], "HEADROOM_MAX_REQUESTS"),
    ("--months 1e6", ["recommend", S, "--months", "1000000"], "--months"),
    ("--growth-sd nan", ["forecast", S, "--growth-sd", "nan"], "--growth-sd"),
    ("--growth-sd inf", ["forecast", S, "--growth-sd", "inf"], "--growth-sd"),
    ("growth 1e308", ["forecast", S, "--set", "workload.growth_pct_per_month=1e308"], "growth_pct_per_month"),
    ("--seed -1", ["simulate", S, "--seed", "-1"], "--seed"),
    ("sweep --workers 0", ["sweep", S, "--grid", "nodes.web.replicas=2,4", "--workers", "0"], "--workers"),
    (
        "sweep unreachable scheduler",
        ["sweep", S, "--grid", "nodes.web.replicas=2", "--scheduler", "tcp://127.0.0.1:9"],
        "scheduler",
    ),
    (
        "sweep --out missing folder",
        ["sweep", S, "--grid", "nodes.web.replicas=2,4", "--out", "no/such/dir/x.csv"],
        "folder",
    ),
    (
        "sweep repeated --grid key",
        ["sweep", S, "--grid", "nodes.web.replicas=2", "--grid", "nodes.web.replicas=4"],
        "twice",
    ),
    (
        "sweep 100^4 grid",
        [
            "sweep",
            S,
            *[
                a
                for k in ("web.replicas", "web.cpus", "cache.nodes", "db.cpus")
                for a in ("--grid", f"nodes.{k}=" + ",".join(str(i) for i in range(1, 101)))
            ],
        ],
        "HEADROOM_MAX_GRID_POINTS",
    ),
    (
        "sweep 1e8 replications",
        ["sweep", S, "--grid", "nodes.web.replicas=2", "--replications", "100000000"],
        "HEADROOM_MAX_REPLICATIONS",
    ),
    ("fit alias bomb", ["fit", "--config", "fit-bomb.yaml", "--out", "x.yaml"], "aliases"),
    ("fit 1000-deep nesting", ["fit", "--config", "fit-deep.yaml", "--out", "x.yaml"], "nested deeper"),
    ("fit /dev/zero", ["fit", "--config", "/dev/zero", "--out", "x.yaml"], "regular file"),
    (
        "fit CSV /proc/self/environ",
        ["fit", "--config", "fit-csv-environ.yaml", "--out", "x.yaml"],
        "not a header",
    ),
    ("fit CSV /dev/zero", ["fit", "--config", "fit-csv-zero.yaml", "--out", "x.yaml"], "regular file"),
]


@pytest.fixture(scope="module")
def zygotes():
    pool = Zygotes(2)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def outcomes(folder, zygotes):
    """Every case, two at a time (the machine's cores), run once for the module."""
    done = zygotes.run_all([(case[1], case[3] if len(case) > 3 else None) for case in CASES], folder)
    return {case[0]: outcome for case, outcome in zip(CASES, done)}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_refused_with_one_clear_line(case, outcomes):
    name, word = case[0], case[2]
    outcome = outcomes[name]
    assert not outcome.problems(), f"{name}: {outcome.problems()}\n{outcome.stderr[:800]}"
    assert word in outcome.stderr, outcome.stderr


def test_no_control_characters_reach_the_terminal(outcomes):
    for name, outcome in outcomes.items():
        assert "\x1b" not in outcome.stderr + outcome.stdout, name


def test_environ_trace_in_a_fresh_interpreter(folder):
    """The issue's exact leak, without the forking harness: a fresh `python cli.py` process."""
    outcome = run_cli("simulate", S, *TRACE, "--set", "workload.trace=/proc/self/environ", cwd=folder)
    assert not outcome.problems(), outcome.stderr


def test_a_trace_inside_the_folder_still_works(folder, zygotes):
    """The bound is the folder, not traces as such: a good trace beside the scenario runs."""
    (folder / "day.csv").write_text(
        "timestamp,rate_rps\n" + "".join(f"{1_700_000_000 + 3600 * h},{10 + h}\n" for h in range(24))
    )
    outcome = zygotes.run(
        ["simulate", S, *TRACE, "--set", "workload.trace=day.csv", "--requests", "500", "--json"], folder
    )
    assert not outcome.problems(expected_exit=0), outcome.stderr
