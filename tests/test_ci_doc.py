"""docs/ci.md's pull-request script, run as written against a real git repository.

The block between the `headroom-diff-script` markers is what users copy into their CI; running
it here against two commits of a scenario keeps the document and the command line in step.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
THREE_TIER = (ROOT / "scenarios" / "three-tier.yaml").read_text()

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def script() -> str:
    doc = (ROOT / "docs" / "ci.md").read_text()
    block = re.search(
        r"<!-- headroom-diff-script:start -->\n```bash\n(.*?)```\n<!-- headroom-diff-script:end -->",
        doc,
        re.S,
    )
    assert block, "docs/ci.md lost its script block"
    return block.group(1)


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "infra"
    (repo / "scenarios").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "scenarios" / "store.yaml").write_text(THREE_TIER)
    (repo / "README.md").write_text("infra\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    (repo / "ci").mkdir()
    (repo / "ci" / "headroom-diff.sh").write_text(script())
    return repo


def run_script(repo: Path, base: str, head: str, extra: str = "") -> tuple[int, str]:
    env = {
        **os.environ,
        "BASE_SHA": base,
        "HEAD_SHA": head,
        "HEADROOM": str(ROOT),
        "PYTHON": sys.executable,
        "HEADROOM_DIFF_ARGS": extra,
    }
    done = subprocess.run(
        ["bash", "ci/headroom-diff.sh"], cwd=repo, env=env, capture_output=True, text=True, timeout=240
    )
    return done.returncode, (repo / "headroom-comment.md").read_text()


def test_a_change_that_keeps_the_slo_passes_with_one_comment(repo):
    base = git(repo, "rev-parse", "HEAD")
    path = repo / "scenarios" / "store.yaml"
    path.write_text(THREE_TIER.replace("read_replicas: 0", "read_replicas: 1"))
    (repo / "README.md").write_text("infra, edited\n")  # not a scenario: not diffed
    git(repo, "commit", "-qam", "a read replica")
    rc, comment = run_script(repo, base, git(repo, "rev-parse", "HEAD"))
    assert rc == 0, comment
    assert comment.count("<!-- headroom-diff -->") == 1 and comment.startswith("<!-- headroom-diff -->")
    assert "### `scenarios/store.yaml`" in comment and "README" not in comment
    verdict = next(line for line in comment.splitlines() if line.startswith("**Headroom:"))
    assert "SLO met" in verdict and "cost +$" in verdict
    assert "`nodes.db.read_replicas` | 0 | 1 |" in comment
    assert not (repo / "headroom-diff.out").exists()


def test_a_change_that_breaks_the_slo_fails_the_check_and_says_why(repo):
    base = git(repo, "rev-parse", "HEAD")
    (repo / "scenarios" / "store.yaml").write_text(THREE_TIER.replace("rate_rps: 120", "rate_rps: 400"))
    (repo / "scenarios" / "new.yaml").write_text(THREE_TIER)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "triple the load, add a scenario")
    rc, comment = run_script(repo, base, git(repo, "rev-parse", "HEAD"))
    assert rc == 3, comment
    assert "SLO missed" in comment and "- check failed: HEAD misses its SLO" in comment
    assert "### `scenarios/new.yaml`" in comment and "A new scenario" in comment


def test_a_broken_file_is_reported_in_the_comment_with_exit_2(repo):
    base = git(repo, "rev-parse", "HEAD")
    (repo / "scenarios" / "store.yaml").write_text(THREE_TIER.replace("replicas: 6", "replicas: many"))
    git(repo, "commit", "-qam", "typo")
    rc, comment = run_script(repo, base, git(repo, "rev-parse", "HEAD"))
    assert rc == 2
    assert "could not read it" in comment and "nodes.web.replicas" in comment


def test_a_p99_limit_in_the_options_fails_the_check(repo):
    base = git(repo, "rev-parse", "HEAD")
    (repo / "scenarios" / "store.yaml").write_text(THREE_TIER.replace("replicas: 6", "replicas: 3"))
    git(repo, "commit", "-qam", "fewer pods")
    head = git(repo, "rev-parse", "HEAD")
    assert run_script(repo, base, head)[0] == 0
    rc, comment = run_script(repo, base, head, "--max-p99-increase 0.1")
    assert rc == 3 and "p99 rises" in comment
