"""Scenarios as the app holds them: YAML text plus a few key-path changes, and nothing else.

A scenario in the app is always (its YAML text, where it came from, the what-if changes),
because text and a dict of changes are hashable once serialised, survive a page switch,
fit in a URL, and rebuild the exact `Scenario` the CLI would load with `--set`. Plain
functions only: no Streamlit here, so all of it is tested without a browser.
"""

from __future__ import annotations

import base64
import difflib
import json
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from model.scenario.strict_yaml import SAFE_LOADER

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NAME = "checkout"


def scenarios_dir() -> Path:
    """The local scenarios folder (HEADROOM_SCENARIOS_DIR, else the repository's scenarios/)."""
    return Path(os.environ.get("HEADROOM_SCENARIOS_DIR") or ROOT / "scenarios")


@dataclass(frozen=True)
class ScenarioText:
    """A scenario's YAML and its origin: `folder` (a file in the scenarios folder) or `upload`."""

    name: str
    text: str
    origin: str = "folder"

    @property
    def path(self) -> Path | None:
        return scenarios_dir() / f"{self.name}.yaml" if self.origin == "folder" else None


def folder_scenarios() -> list[str]:
    """Names (file stems) of the scenario files in the folder; fit files (`source:`/`traffic:`) are left out."""
    out = []
    folder = scenarios_dir()
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and "workload" in data and "traffic" not in data:
            out.append(path.stem)
    return out


def read_folder_scenario(name: str) -> ScenarioText:
    if not re.fullmatch(r"[\w.\-]+", name):
        raise FileNotFoundError(name)
    return ScenarioText(name, (scenarios_dir() / f"{name}.yaml").read_text(encoding="utf-8"), "folder")


def build(st_text: ScenarioText, changes: dict[str, Any]):
    """The validated Scenario, or `model.scenario.reader.ScenarioError` naming the key path and line.

    A folder file goes through `load_scenario` (so a trace path resolves next to the file,
    exactly as the CLI does it); uploaded text through `scenario_from_text`.
    Links and uploads pass `streamlit_ui.guard` first: bounded size and shape, no trace path.
    """
    from streamlit_ui import guard
    from model.scenario.reader import load_scenario, scenario_from_text

    if st_text.origin == "folder":
        guard.check_changes(changes, base_uses_trace=uses_trace(st_text.text))
        overrides = [f"{path}={json.dumps(value)}" for path, value in changes.items()]
        scenario = load_scenario(st_text.path, overrides)
    else:
        guard.check_yaml(st_text.text, st_text.name)
        guard.check_no_trace(st_text.text, st_text.name)
        guard.check_changes(changes)
        scenario = scenario_from_text(st_text.text, st_text.name, list(changes.items()))
    guard.check_scenario(scenario, st_text.name)
    return scenario


def uses_trace(text: str) -> bool:
    """Whether a folder scenario reads its own trace (then a link may switch arrivals to it)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    workload = data.get("workload") if isinstance(data, dict) else None
    return isinstance(workload, dict) and bool(workload.get("trace"))


def changes_json(changes: dict[str, Any]) -> str:
    """A canonical, hashable form of the changes (the cache key and the worker argument)."""
    return json.dumps(changes, sort_keys=True, separators=(",", ":"))


def slug(name: str) -> str:
    """A file-safe name: `Checkout API (6 pods)` -> `checkout-api-6-pods`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "scenario"


# ---------------------------------------------------------------- YAML with changes applied


def applied_text(text: str, changes: dict[str, Any]) -> str:
    """The YAML a user would save: the original with each change applied (comments kept where untouched).

    Scalar changes to keys that already exist are edited in place on their line, so a diff
    shows only the lines that changed; anything else (new keys, blocks) is re-dumped.
    """
    from model.scenario.reader import apply_override

    out = text
    leftover: dict[str, Any] = {}
    for path, value in changes.items():
        edited = _edit_in_place(out, path, value)
        if edited is None:
            leftover[path] = value
        else:
            out = edited
    if not leftover:
        return out
    data = yaml.safe_load(out)
    for path, value in leftover.items():
        apply_override(data, path, value)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _scalar(value: Any) -> str:
    """A scalar as YAML writes it on one line (`6`, `0.9`, `true`, `m6i.large`)."""
    if (
        isinstance(value, str)
        and re.fullmatch(r"[A-Za-z][\w.\-/]*", value)
        and yaml.safe_load(value) == value
    ):
        return value
    return json.dumps(value)


def _edit_in_place(text: str, path: str, value: Any) -> str | None:
    """Replace one scalar's value on its own line (block style, or inside a one-line `{...}`).

    None when the key is not simply there (the caller then re-dumps the document).
    """
    if isinstance(value, (dict, list)):
        return None
    keys = path.split(".")
    lines = text.splitlines(keepends=True)
    start, indent = 0, -1
    for depth, key in enumerate(keys):
        pattern = re.compile(r"^(\s*)" + re.escape(key) + r"\s*:(.*)$")
        found = None
        for i in range(start, len(lines)):
            stripped = lines[i].strip()
            if not stripped or stripped.startswith("#"):
                continue
            current = len(lines[i]) - len(lines[i].lstrip())
            if current <= indent:
                break  # left the parent block
            m = pattern.match(lines[i].rstrip("\n"))
            if m and (indent < 0 and current == 0 or indent >= 0):
                found = (i, m)
                break
        if found is None:
            return None
        i, m = found
        rest = m.group(2).split("#")[0].strip()
        if depth == len(keys) - 2 and rest.startswith("{") and rest.endswith("}"):
            flow = re.compile(r"([{,]\s*" + re.escape(keys[-1]) + r"\s*:\s*)([^,}]+?)(\s*[,}])")
            if len(flow.findall(lines[i])) != 1:
                return None
            lines[i] = _drop_provenance(
                flow.sub(lambda f: f.group(1) + _scalar(value) + f.group(3), lines[i])
            )
            return "".join(lines)
        if depth < len(keys) - 1:
            if rest:
                return None
            start, indent = i + 1, len(m.group(1))
            continue
        comment = ""
        if "#" in m.group(2) and not PROVENANCE.match(m.group(2).split("#", 1)[1]):
            comment = "  #" + m.group(2).split("#", 1)[1].rstrip("\n")
        if not rest or rest.startswith(("{", "[", "|", ">")):
            return None
        newline = "\n" if lines[i].endswith("\n") else ""
        lines[i] = f"{m.group(1)}{key}: {_scalar(value)}{comment}{newline}"
        return "".join(lines)
    return None


# A fitted scenario's comments say where each value came from; on a line whose value was
# changed they would be false ("# given: fit file" beside a replica count Right-size chose).
PROVENANCE = re.compile(r"\s*(given|fitted|assumed)\b")


def _drop_provenance(line: str) -> str:
    body, sep, comment = line.rstrip("\n").partition("  #")
    if sep and PROVENANCE.match(comment):
        return body.rstrip() + ("\n" if line.endswith("\n") else "")
    return line


def yaml_diff(before: str, after: str, name: str = "scenario.yaml") -> str:
    """A unified diff, as `git diff` would show it, of two scenario texts."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
    )


# ---------------------------------------------------------------- the URL


def encode_query(st_text: ScenarioText, changes: dict[str, Any]) -> dict[str, Any]:
    """Query parameters that reproduce the view: `scenario=NAME` (or the zipped YAML) and one `set` per change."""
    params: dict[str, Any] = {}
    if st_text.origin == "folder":
        params["scenario"] = st_text.name
    else:
        params["name"] = st_text.name
        params["yaml"] = base64.urlsafe_b64encode(zlib.compress(st_text.text.encode("utf-8"), 9)).decode(
            "ascii"
        )
    if changes:
        params["set"] = [f"{path}={json.dumps(value)}" for path, value in sorted(changes.items())]
    return params


def decode_query(params: dict[str, list[str]]) -> tuple[ScenarioText | None, dict[str, Any], str | None]:
    """The scenario and changes a link names, and a message when part of it cannot be used."""
    from streamlit_ui import guard
    from model.scenario.reader import ScenarioError, parse_override

    problem = None
    st_text = None
    if params.get("yaml"):
        try:
            packed = params["yaml"][-1]
            if len(packed) > guard.MAX_LINK_CHARS:
                raise guard.refused(
                    "the link",
                    "",
                    f"is {len(packed):,} characters long; the app opens links up to {guard.MAX_LINK_CHARS:,}",
                )
            raw = guard.inflate(base64.urlsafe_b64decode(packed.encode("ascii")))
            name = guard.echo((params.get("name") or ["shared scenario"])[-1])[:80]
            st_text = ScenarioText(name, raw.decode("utf-8"), "upload")
        except ScenarioError as exc:
            problem = f"Could not open the link's scenario: it {exc.message}. Opened the demo instead."
        except (ValueError, zlib.error, UnicodeDecodeError):
            problem = "The link's embedded scenario is damaged; opened the demo instead."
    elif params.get("scenario"):
        name = params["scenario"][-1]
        try:
            st_text = read_folder_scenario(name)
        except OSError:
            problem = (
                f"The link names scenario {guard.echo(name)!r}, which is not in the scenarios folder; "
                "opened the demo instead."
            )
    changes: dict[str, Any] = {}
    items = params.get("set", [])
    if len(items) > guard.MAX_CHANGES:
        problem = f"The link carries {len(items):,} changes; the app reads up to {guard.MAX_CHANGES}. Ignored them all."
        items = []
    for item in items:
        try:
            guard.check_change_text(item)
            path, value = parse_override(item)
            guard.check_changes(
                {path: value},
                base_uses_trace=st_text is not None
                and st_text.origin == "folder"
                and uses_trace(st_text.text),
            )
        except ScenarioError as exc:
            problem = f"Ignored the link's change {guard.echo(item)!r}: " + (
                "expected PATH=VALUE." if exc.source == "--set" else f"it {exc.message}."
            )
            continue
        changes[path] = value
    return st_text, changes, problem
