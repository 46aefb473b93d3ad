"""Reading a scenario file: YAML in, a validated Scenario out, or one clear message.

Every refusal names the file, the key path (`nodes.web.replicas`) and, where YAML gives
it, the line, because the person fixing the file needs all three and nothing else.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from model.cost import validate_prices
from model.graph import UnboundedVisitsError, visit_ratios
from model.scenario import NODE_KINDS, GraphError, Scenario
from model.trace import TraceError, read_trace_frame
from model.yaml_lines import line_of


class ScenarioError(ValueError):
    """An invalid scenario: where it is wrong and why, ready to print."""

    def __init__(self, source: str, path: str, message: str, line: int | None = None):
        self.source, self.path, self.message, self.line = source, path, message, line
        where = f"{source}: {path}" if path else source
        if line is not None:
            where += f" (line {line})"
        super().__init__(f"{where}: {message}")


# ---------------------------------------------------------------- overrides

def parse_override(text: str) -> tuple[str, Any]:
    """`nodes.web.replicas=6` -> ("nodes.web.replicas", 6); the value is read as YAML."""
    if "=" not in text:
        raise ScenarioError("--set", text, "expected PATH=VALUE, for example nodes.web.replicas=6")
    path, raw = text.split("=", 1)
    path = path.strip()
    if not path:
        raise ScenarioError("--set", text, "the key path before '=' is empty")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return path, value


def parse_grid(text: str) -> tuple[str, list[Any]]:
    """`nodes.web.replicas=2,4,6` -> ("nodes.web.replicas", [2, 4, 6]); each value read as YAML."""
    if "=" not in text:
        raise ScenarioError("--grid", text, "expected PATH=V1,V2,..., for example nodes.web.replicas=2,4,6")
    path, raw = (part.strip() for part in text.split("=", 1))
    values = [parse_override(f"{path}={item}")[1] for item in raw.split(",") if item.strip()]
    if not path or not values:
        raise ScenarioError("--grid", text, "needs a key path and at least one value")
    return path, values


def apply_override(data: dict, path: str, value: Any, source: str = "--set") -> None:
    """Set one dotted key path in raw scenario data, creating missing mappings on the way."""
    keys = path.split(".")
    here: Any = data
    for depth, key in enumerate(keys[:-1]):
        prefix = ".".join(keys[: depth + 1])
        if isinstance(here, list):
            here = here[_list_index(key, here, prefix, source)]
        elif isinstance(here, dict):
            if here.get(key) is None:
                here[key] = {}
            here = here[key]
        else:
            raise ScenarioError(source, prefix, f"is not a mapping, so {path} cannot be set")
    last = keys[-1]
    if isinstance(here, list):
        here[_list_index(last, here, path, source)] = value
    elif isinstance(here, dict):
        here[last] = value
    else:
        raise ScenarioError(source, path, "its parent is not a mapping")


def _list_index(key: str, items: list, path: str, source: str) -> int:
    if not key.isdigit() or int(key) >= len(items):
        raise ScenarioError(source, path, f"needs a list index from 0 to {len(items) - 1}")
    return int(key)


# ---------------------------------------------------------------- loading

def load_scenario(path: str | Path, overrides: Iterable[str] = (), rate_rps: float | None = None) -> Scenario:
    """Read, override and validate a scenario file, or raise ScenarioError."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file") from None
    except IsADirectoryError:
        raise ScenarioError(source, "", "is a folder, not a scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, "", f"cannot be read ({exc.__class__.__name__}: {exc})") from None
    changes = [parse_override(o) for o in overrides]
    if rate_rps is not None:
        changes.append(("workload.rate_rps", rate_rps))
    scenario = scenario_from_text(text, source, changes)
    return _resolve_trace(scenario, Path(path), source)


def _resolve_trace(scenario: Scenario, path: Path, source: str) -> Scenario:
    """A trace path is relative to the scenario file, and must be readable before anything runs."""
    trace = scenario.workload.trace
    if scenario.workload.arrivals != "trace" or not trace:
        return scenario
    resolved = Path(trace) if Path(trace).is_absolute() else path.parent / trace
    try:
        read_trace_frame(resolved)
    except TraceError as exc:
        raise ScenarioError(source, "workload.trace", str(exc)) from None
    workload = scenario.workload.model_copy(update={"trace": str(resolved)})
    return scenario.model_copy(update={"workload": workload})


def scenario_from_text(text: str, source: str = "scenario", changes: Iterable[tuple[str, Any]] = ()) -> Scenario:
    try:
        tree = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(source, "", f"is not valid YAML: {problem}", mark.line + 1 if mark else None) from None
    if data is None:
        raise ScenarioError(source, "", "is empty; a scenario needs version, name, workload, entry and nodes")
    if not isinstance(data, dict):
        raise ScenarioError(source, "", "must be a mapping of keys (version, name, workload, ...)", 1)
    changed: set[str] = set()
    for key_path, value in changes:
        apply_override(data, key_path, value)
        changed.add(key_path)
    return scenario_from_data(data, source, tree, changed)


def scenario_from_data(data: dict, source: str = "scenario", tree: yaml.Node | None = None,
                       changed: set[str] = frozenset()) -> Scenario:
    """Validate raw data (YAML's dict), pointing errors at the YAML line where there is one."""

    def fail(loc: tuple, message: str) -> ScenarioError:
        path = ".".join(str(p) for p in loc)
        line = None if any(path == c or path.startswith(c + ".") for c in changed) else line_of(tree, loc)
        return ScenarioError("--set" if line is None and path in changed else source, path, message, line)

    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        loc, message = _first_error(exc, data)
        raise fail(loc, message) from None
    try:
        visit_ratios(scenario)
    except UnboundedVisitsError as exc:
        raise fail(("nodes",), str(exc)) from None
    problems = validate_prices(scenario)
    if problems:
        raise fail(*problems[0])
    return scenario


def _first_error(exc: ValidationError, data: Any) -> tuple[tuple, str]:
    """The most useful single error: pydantic lists one per union branch, we want one line."""
    errors = exc.errors()
    err = errors[0]
    loc = _strip_tags(tuple(err["loc"]), data)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if isinstance(ctx.get("error"), GraphError):
        graph = ctx["error"]
        return graph.path, graph.message
    if kind == "union_tag_invalid":
        return loc + ("kind",), f"unknown kind {ctx.get('tag')!r}; use one of: {', '.join(NODE_KINDS)}"
    if kind == "union_tag_not_found":
        return loc + ("kind",), f"missing; every node needs a kind ({', '.join(NODE_KINDS)})"
    if kind in ("extra_forbidden", "missing"):
        return _unknown_or_missing(errors, data) or (loc, "is required")
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if "input" in err and kind not in ("model_type", "dict_type"):
        message += f" (got {err['input']!r})"
    return loc, message


def _unknown_or_missing(errors: list[dict], data: Any) -> tuple[tuple, str] | None:
    """A misspelt key (`servce_ms`) is reported by pydantic as two errors, the required key missing
    first; name the unknown key first, at its own line, with a "did you mean", then the missing one."""
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    missing = [e for e in errors if e["type"] == "missing"]
    if not unknown:
        return None
    loc = _strip_tags(tuple(unknown[0]["loc"]), data)
    parent, name = loc[:-1], str(loc[-1])
    siblings = [str(_strip_tags(tuple(e["loc"]), data)[-1]) for e in missing
                if _strip_tags(tuple(e["loc"]), data)[:-1] == parent]
    close = difflib.get_close_matches(name, siblings or _known_keys(parent, data), n=1, cutoff=0.6)
    message = f"unknown key {name!r}" + (f"; did you mean {close[0]!r}?" if close else
                                         " (check its spelling; see the contract for the keys a scenario may have)")
    if siblings:
        where = ".".join(str(p) for p in (*parent, siblings[0]))
        message += f" ({where} is required)" if close and close[0] == siblings[0] else f"; and {where} is required"
    return loc, message


def _known_keys(parent: tuple, data: Any) -> list[str]:
    """The keys a scenario allows where `parent` points (a node's keys by its kind, or the top level's)."""
    from model.scenario import NODE_TYPES

    if len(parent) == 2 and parent[0] == "nodes" and isinstance(data, dict):
        node = (data.get("nodes") or {}).get(parent[1])
        kind = node.get("kind") if isinstance(node, dict) else None
        return list(NODE_TYPES[kind].model_fields) if kind in NODE_TYPES else []
    return list(Scenario.model_fields) if not parent else []


def _strip_tags(loc: tuple, data: Any) -> tuple:
    """Drop the discriminator tags pydantic inserts (`nodes.web.service.replicas`)."""
    out: list = []
    here = data
    for part in loc:
        if isinstance(here, dict) and part not in here and part in NODE_KINDS and here.get("kind") == part:
            continue
        out.append(part)
        if isinstance(here, dict):
            here = here.get(part)
        elif isinstance(here, list) and isinstance(part, int) and part < len(here):
            here = here[part]
        else:
            here = None
    return tuple(out)
