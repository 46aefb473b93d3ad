"""Shared pieces for the app's tests: the demo scenario's numbers straight from model/, and an AppTest factory."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _scenarios_dir(tmp_path, monkeypatch):
    """Saving "to folder" writes into a copy of the scenarios folder, never the repository's."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    for path in (ROOT / "scenarios").glob("*.yaml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("HEADROOM_SCENARIOS_DIR", str(folder))
    monkeypatch.chdir(ROOT)
    return folder
