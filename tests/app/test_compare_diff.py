"""Compare's diff section: the same numbers and Markdown as `python cli.py diff` on the same files."""

from __future__ import annotations

import subprocess
import sys

from tests.app.apptools import ROOT, app, no_errors


def test_the_current_what_if_is_diffed_against_its_file_as_the_cli_does():
    at = app("whatif", {"scenario": "three-tier", "set": ["nodes.web.replicas=3"]})
    at.switch_page("pages/compare.py").run()
    no_errors(at)
    assert at.selectbox(key="diff-base").value == "three-tier.yaml"
    assert at.selectbox(key="diff-head").value == "current, with what-if changes"
    markdown = next(c.value for c in at.code if c.value.startswith("<!-- headroom-diff -->"))
    changed = at.dataframe[-1].value
    assert list(changed["changed key"]) == ["nodes.web.replicas"] and list(changed["after"]) == ["3"]
    # The CLI on the file and the file with the change written in: the same verdict and table.
    head = ROOT / "scenarios" / "three-tier.yaml"
    cli = subprocess.run(
        [
            sys.executable,
            str(ROOT / "cli.py"),
            "diff",
            str(head),
            str(head),
            "--markdown",
            "--set",
            "nodes.web.replicas=3",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert cli.returncode == 0, cli.stderr
    app_table = [line for line in markdown.splitlines() if line.startswith("| ") and "latency" in line]
    assert app_table and "+" in app_table[-1]  # p99 rises with fewer pods
    base_cli = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "diff", str(head), str(head), "--markdown"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    ).stdout
    cli_base_p99 = next(line for line in base_cli.splitlines() if line.startswith("| p99")).split("|")[2]
    cli_head_p99 = next(line for line in cli.stdout.splitlines() if line.startswith("| p99")).split("|")[3]
    app_p99 = next(line for line in markdown.splitlines() if line.startswith("| p99")).split("|")
    assert (app_p99[2], app_p99[3]) == (cli_base_p99, cli_head_p99)


def test_two_files_from_the_folder_can_be_picked():
    at = app("compare")
    no_errors(at)
    at.selectbox(key="diff-base").set_value("three-tier.yaml").run()
    at.selectbox(key="diff-head").set_value("cache-db.yaml").run()
    no_errors(at)
    verdicts = [m.value for m in at.success] + [m.value for m in at.error]
    assert any("p99" in v and "runway" in v for v in verdicts)
    assert any("nodes" in str(k) for k in at.dataframe[-1].value["changed key"])
