"""`python cli.py diff` as a CI job calls it: the JSON shape, the gates' exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREE_TIER = ROOT / "scenarios" / "three-tier.yaml"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "diff", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_json_carries_both_sides_the_deltas_and_the_check(tmp_path):
    head = tmp_path / "head.yaml"
    head.write_text(THREE_TIER.read_text().replace("replicas: 6", "replicas: 3"))
    out = run(str(THREE_TIER), str(head), "--json", "--months", "2")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {"method", "months", "changes", "base", "head", "delta", "check", "notes"} <= set(doc)
    assert doc["method"] == "analytic" and doc["months"] == 2
    assert doc["changes"] == [{"path": "nodes.web.replicas", "before": 6, "after": 3}]
    for side in ("base", "head"):
        assert {
            "file",
            "scenario",
            "rate_rps",
            "latency_ms",
            "error_pct",
            "busiest",
            "saturation_rps",
            "saturated",
            "runway_months",
            "horizon_months",
            "cost",
            "slo",
        } <= set(doc[side])
        assert set(doc[side]["latency_ms"]) == {"p50", "p95", "p99"}
    assert doc["delta"]["monthly"] == round(
        doc["head"]["cost"]["monthly"] - doc["base"]["cost"]["monthly"], 2
    )
    assert doc["delta"]["monthly"] < 0 and doc["check"] == {"passed": True, "failures": []}


def test_gates_exit_3_with_the_reason_on_stderr(tmp_path):
    head = tmp_path / "head.yaml"
    head.write_text(THREE_TIER.read_text().replace("read_replicas: 0", "read_replicas: 1"))
    out = run(str(THREE_TIER), str(head), "--max-cost-increase", "10")
    assert out.returncode == 3 and "check failed: the monthly bill rises" in out.stderr
    assert run(str(THREE_TIER), str(head), "--max-cost-increase", "100000").returncode == 0
    saturated = tmp_path / "saturated.yaml"
    saturated.write_text(THREE_TIER.read_text().replace("rate_rps: 120", "rate_rps: 400"))
    out = run(str(THREE_TIER), str(saturated), "--check-slo", "--json")
    assert out.returncode == 3 and json.loads(out.stdout)["check"]["passed"] is False
    assert run(str(THREE_TIER), str(saturated)).returncode == 0  # no gate asked for: a report, not a check


def test_bad_input_exits_2_with_one_line(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(THREE_TIER.read_text().replace("replicas: 6", "replicas: -1"))
    unlisted = (
        tmp_path / "unlisted.yaml"
    )  # a real ElastiCache-style type the catalog lacks: estimated, or refused
    unlisted.write_text(
        THREE_TIER.read_text()
        .replace("type: m6i.large}", "type: m6i.24xlarge}")
        .replace("    concurrency: 16", "    cpus: 2\n    concurrency: 16")
    )
    for args, needle in (
        ((str(THREE_TIER), str(broken)), "nodes.web.replicas"),
        ((str(THREE_TIER), str(tmp_path / "missing.yaml")), "missing.yaml"),
        ((str(THREE_TIER), str(THREE_TIER), "--json", "--markdown"), "one of --json and --markdown"),
        ((str(THREE_TIER), str(THREE_TIER), "--max-p99-increase", "-5"), "--max-p99-increase"),
        (("git:no-such-ref:scenarios/three-tier.yaml", str(THREE_TIER)), "git show failed"),
        ((str(THREE_TIER), str(unlisted), "--strict-prices"), "--strict-prices"),
    ):
        out = run(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert (
            needle in out.stderr
            and len(out.stderr.strip().splitlines()) == 1
            and "Traceback" not in out.stderr
        )


def test_git_sides_read_committed_versions_without_a_checkout(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    env = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "s.yaml").write_text(THREE_TIER.read_text())
    subprocess.run(["git", *env, "add", "s.yaml"], cwd=repo, check=True)
    subprocess.run(["git", *env, "commit", "-qm", "one"], cwd=repo, check=True)
    (repo / "s.yaml").write_text(THREE_TIER.read_text().replace("write_ms: 12", "write_ms: 30"))
    subprocess.run(["git", *env, "commit", "-qam", "two"], cwd=repo, check=True)
    (repo / "s.yaml").write_text("not: a scenario\n")  # the working tree is not what git: reads
    out = run("git:HEAD~1:s.yaml", "git:HEAD:s.yaml", "--json", cwd=repo)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["changes"] == [{"path": "nodes.db.write_ms", "before": 12, "after": 30}]
    assert doc["head"]["busiest"]["utilization"] > doc["base"]["busiest"]["utilization"]
