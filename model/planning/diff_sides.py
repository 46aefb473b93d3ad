"""The two sides of a diff as written: a scenario file or `git:REF:PATH` read with `git show` (PATH
relative to the current folder), validated with --set, --rate and --users; and the keys whose values
differ between the two texts (model/planning/diff.py evaluates the sides).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml

from model.scenario.reader import (
    ScenarioError,
    load_changes,
    load_scenario,
    parse_override,
    scenario_from_text,
)
from model.scenario.schema import Scenario
from model.scenario.strict_yaml import SAFE_LOADER

GIT_PREFIX = "git:"
GIT_TIMEOUT_S = 20
ABSENT = object()  # a key one side does not have


@dataclass(frozen=True)
class Change:
    """One key that differs between the two files, as written (dotted path, list items by index)."""

    path: str
    before: Any = None  # None with `added` when BASE lacks the key
    after: Any = None  # None with `removed` when HEAD lacks the key
    added: bool = False
    removed: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "before": self.before, "after": self.after}
        if self.added:
            out["added"] = True
        if self.removed:
            out["removed"] = True
        return out


def read_text(spec: str) -> str:
    """A side's YAML text: a file, or `git:REF:PATH` through `git show REF:./PATH`."""
    if not spec.startswith(GIT_PREFIX):
        try:
            return Path(spec).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(spec, "", f"cannot be read ({exc.__class__.__name__})") from None
    ref, sep, path = spec[len(GIT_PREFIX) :].partition(":")
    if not sep or not ref or not path:
        raise ScenarioError(
            spec, "", "expected git:REF:PATH, for example git:origin/main:scenarios/checkout.yaml"
        )
    if Path(path).is_absolute():
        raise ScenarioError(spec, "", "give the path relative to the current folder, as git show reads it")
    try:
        done = subprocess.run(
            ["git", "show", f"{ref}:./{path}"],
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise ScenarioError(spec, "", "git is not installed, so a git: side cannot be read") from None
    except subprocess.TimeoutExpired:
        raise ScenarioError(spec, "", f"git show did not answer within {GIT_TIMEOUT_S} s") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ScenarioError(
            spec, "", "git show failed: " + (reason[0][:200] if reason else f"exit {done.returncode}")
        )
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(spec, "", "is not UTF-8 text") from None


def load_side(
    spec: str,
    overrides: Iterable[str] = (),
    rate_rps: float | None = None,
    strict_prices: bool = False,
    users: int | None = None,
) -> tuple[str, Scenario]:
    """One side's text as written, and its validated scenario with --set, --rate and --users applied
    (`strict_prices`: an instance type the catalog does not list is invalid input)."""
    text = read_text(spec)
    if not spec.startswith(GIT_PREFIX):  # a trace resolves beside the file
        return text, load_scenario(
            spec, overrides, rate_rps=rate_rps, strict_prices=strict_prices, users=users
        )
    changes = [parse_override(o) for o in overrides] + load_changes(rate_rps, users)
    # a trace is read from the working tree only: a git: side that names one is refused as text is
    return text, scenario_from_text(text, spec, changes, strict_prices=strict_prices)


def changed_keys(base_text: str, head_text: str) -> list[Change]:
    """Every key whose value differs between the two files as written, in the order BASE lists them
    (keys only HEAD has come after). A list differs item by item (`nodes.web.calls.0.to`)."""
    before, after = _flatten(_yaml(base_text)), _flatten(_yaml(head_text))
    out = []
    for path in list(before) + [p for p in after if p not in before]:
        b, a = before.get(path, ABSENT), after.get(path, ABSENT)
        if b == a and type(b) is type(a):
            continue
        out.append(
            Change(
                path,
                None if b is ABSENT else b,
                None if a is ABSENT else a,
                added=b is ABSENT,
                removed=a is ABSENT,
            )
        )
    return out


def _yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError:  # already refused with its line when the side was loaded
        return None


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves by dotted path. Iterative, so a deeply nested file cannot exhaust the stack."""
    out: dict[str, Any] = {}
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        path, here = stack.pop()
        if isinstance(here, dict) and here:
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in reversed(list(here.items())))
        elif isinstance(here, list) and here:
            stack.extend((f"{path}.{i}" if path else str(i), v) for i, v in reversed(list(enumerate(here))))
        else:
            out[path] = here
    return out
