"""Reading a scenario file: YAML in, a validated Scenario out, or one clear message.

Every refusal names the file, the key path (`nodes.web.replicas`) and, where YAML gives
it, the line, because the person fixing the file needs all three and nothing else.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from pydantic import ValidationError

from model.pricing.cost import validate_prices
from model.scenario.graph import UnboundedVisitsError, visit_ratios
from model.scenario.schema import NODE_KINDS, GraphError, Scenario
from model.scenario.limits import LimitError, clip, limit, over
from model.scenario.bounds import check_bounds, check_node_count, check_visits
from model.scenario.strict_yaml import (
    StrictYamlError,
    describe,
    display_name,
    find_yes_no,
    parse,
    parse_value,
    pick_error,
    read_text_file,
)
from model.scenario.trace import TraceError, read_trace_frame, resolve_trace_path
from model.scenario.yaml_lines import line_of


class ScenarioError(StrictYamlError):
    """An invalid scenario: where it is wrong and why, ready to print."""

    def __init__(self, source: str, path: str, message: str, line: int | None = None):
        super().__init__(source, path, line, message)
        self.source, self.path = self.file, self.key_path


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
        value = parse_value(raw) if raw.strip() else None
    except LimitError as exc:
        raise ScenarioError("--set", path, str(exc)) from None
    return path, value


def parse_grid(text: str) -> tuple[str, list[Any]]:
    """`nodes.web.replicas=2,4,6` -> ("nodes.web.replicas", [2, 4, 6]); each value read as YAML."""
    if "=" not in text:
        raise ScenarioError("--grid", text, "expected PATH=V1,V2,..., for example nodes.web.replicas=2,4,6")
    path, raw = (part.strip() for part in text.split("=", 1))
    items = [item for item in raw.split(",") if item.strip()]
    if len(items) > limit("GRID_POINTS"):
        raise ScenarioError("--grid", path, over("GRID_POINTS", len(items), "the number of values") or "")
    values = [parse_override(f"{path}={item}")[1] for item in items]
    if not path or not values:
        raise ScenarioError("--grid", text, "needs a key path and at least one value")
    return path, values


def apply_override(data: dict, path: str, value: Any, source: str = "--set") -> None:
    """Set one dotted key path in raw scenario data, creating missing mappings on the way."""
    keys = path.split(".")
    if len(keys) > limit("YAML_DEPTH"):
        raise ScenarioError(source, path, over("YAML_DEPTH", len(keys), "the key path's depth") or "")
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
        if value is DROP:
            here.pop(last, None)
        else:
            here[last] = value
    else:
        raise ScenarioError(source, path, "its parent is not a mapping")


def _list_index(key: str, items: list, path: str, source: str) -> int:
    if not key.isdigit() or int(key) >= len(items):
        raise ScenarioError(source, path, f"needs a list index from 0 to {len(items) - 1}")
    return int(key)


# ---------------------------------------------------------------- loading

DROP = object()  # an override that removes a key (--users drops rate_rps, --rate drops users)


def load_changes(rate_rps: float | None, users: int | None) -> list[tuple[str, Any]]:
    """--rate and --users as key changes: each makes the workload open or closed, whatever the file said."""
    if rate_rps is not None and users is not None:
        raise ScenarioError("--users", "workload.users", "give --rate or --users, not both")
    if rate_rps is not None:
        return [("workload.users", DROP), ("workload.think_ms", DROP), ("workload.rate_rps", rate_rps)]
    if users is not None:
        return [("workload.rate_rps", DROP), ("workload.users", users)]
    return []


def load_scenario(
    path: str | Path,
    overrides: Iterable[str] = (),
    rate_rps: float | None = None,
    trace_from_overrides: bool = True,
    strict_prices: bool = False,
    users: int | None = None,
) -> Scenario:
    """Read, override and validate a scenario file, or raise ScenarioError.

    `trace_from_overrides=False` refuses overrides that name a trace file: the app passes it,
    since there a link's changes come from whoever wrote the link, not from the file's owner.
    `strict_prices` also refuses an instance type the price catalog does not list (`--strict-prices`).
    `rate_rps` (`--rate`) makes the workload open at that rate, `users` (`--users`) closed with that many.
    """
    source = display_name(path)
    text = read_text_file(path, source, _scenario_error, "scenario file")
    changes = [parse_override(o) for o in overrides]
    if not trace_from_overrides:
        _refuse_trace_changes(changes)
    changes += load_changes(rate_rps, users)
    return scenario_from_text(text, source, changes, strict_prices=strict_prices, _folder=Path(path).parent)


def _scenario_error(file: str, key_path: str, line: int | None, message: str) -> ScenarioError:
    return ScenarioError(file, key_path, message, line)


def _refuse_trace_changes(changes: list[tuple[str, Any]]) -> None:
    for key_path, value in changes:
        if key_path == "workload.trace" or (
            key_path == "workload" and isinstance(value, dict) and "trace" in value
        ):
            raise ScenarioError(
                "--set", key_path, "a trace file cannot be set here; it comes with the scenario"
            )


def _resolve_trace(
    scenario: Scenario, source: str, folder: Path | None, traces: Mapping[str, Path], changed: set[str]
) -> Scenario:
    """The trace file, resolved where it may be and readable, before anything runs.

    A scenario file's trace lives in the file's own folder (or below it); a scenario that
    came as text (an upload, a link) names only a trace its caller passes in `traces`.
    """
    trace = scenario.workload.trace
    if scenario.workload.arrivals != "trace" or not trace:
        return scenario
    where = "--set" if "workload.trace" in changed else source
    try:
        if trace in traces:
            resolved = Path(traces[trace])
        elif folder is None:
            raise TraceError(
                f"trace file {clip(trace, 80)!r}: a scenario that did not come from a file "
                "cannot name a trace file; upload the trace with it"
            )
        else:
            resolved = resolve_trace_path(trace, folder)
        read_trace_frame(resolved, name=trace)
    except TraceError as exc:
        raise ScenarioError(where, "workload.trace", str(exc)) from None
    workload = scenario.workload.model_copy(update={"trace": str(resolved)})
    return scenario.model_copy(update={"workload": workload})


def scenario_from_text(
    text: str,
    source: str = "scenario",
    changes: Iterable[tuple[str, Any]] = (),
    traces: Mapping[str, Path] | None = None,
    *,
    strict_prices: bool = False,
    _folder: Path | None = None,
) -> Scenario:
    """Validate a scenario's YAML text. A trace it names must be one of `traces` (name -> file)."""
    data, tree = parse(text, source, _scenario_error)
    if data is None:
        raise ScenarioError(source, "", "is empty; a scenario needs version, name, workload, entry and nodes")
    if not isinstance(data, dict):
        raise ScenarioError(source, "", "must be a mapping of keys (version, name, workload, ...)", 1)
    changed: set[str] = set()
    for key_path, value in changes:
        apply_override(data, key_path, value)
        changed.add(key_path)
    scenario = scenario_from_data(data, source, tree, changed, strict_prices)
    return _resolve_trace(scenario, source, _folder, traces or {}, changed)


def scenario_from_data(
    data: dict,
    source: str = "scenario",
    tree: yaml.Node | None = None,
    changed: set[str] = frozenset(),
    strict_prices: bool = False,
) -> Scenario:
    """Validate raw data (YAML's dict), pointing errors at the YAML line where there is one."""

    def fail(loc: tuple, message: str) -> ScenarioError:
        path = ".".join(str(p) for p in loc)
        line = None if any(path == c or path.startswith(c + ".") for c in changed) else line_of(tree, loc)
        return ScenarioError("--set" if line is None and path in changed else source, path, message, line)

    early = check_node_count(data)
    if early:
        raise fail(*early)
    yes_no = find_yes_no(data)
    if yes_no:
        raise fail(yes_no, "must be a number or text, not true or false")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        loc, message = _first_error(exc, data)
        raise fail(loc, message) from None
    bound = check_bounds(scenario)
    if bound:
        raise fail(*bound)
    try:
        visits = visit_ratios(scenario)
    except UnboundedVisitsError as exc:
        raise fail(("nodes",), str(exc)) from None
    bound = check_visits(visits)
    if bound:
        raise fail(*bound)
    problems = validate_prices(scenario, strict=strict_prices)
    if problems:
        raise fail(*problems[0])
    return scenario


def _first_error(exc: ValidationError, data: Any) -> tuple[tuple, str]:
    """The most useful single error: pydantic lists one per union branch, we want one line."""
    err = pick_error(exc)
    loc = _strip_tags(tuple(err["loc"]), data)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if isinstance(ctx.get("error"), GraphError):
        graph = ctx["error"]
        return graph.path, graph.message
    if kind == "union_tag_invalid":
        return loc + (
            "kind",
        ), f"unknown kind {clip(repr(ctx.get('tag')), 60)}; use one of: {', '.join(NODE_KINDS)}"
    if kind == "union_tag_not_found":
        return loc + ("kind",), f"missing; every node needs a kind ({', '.join(NODE_KINDS)})"
    if kind in ("extra_forbidden", "missing"):
        found = _unknown_or_missing(exc.errors(), data)
        if found:
            return found
    return loc, describe(
        err, "unknown key (check its spelling; see docs/contract.md for the keys a scenario may have)"
    )


def _unknown_or_missing(errors: list[dict], data: Any) -> tuple[tuple, str] | None:
    """A misspelt key (`servce_ms`) is reported by pydantic as two errors, the required key missing
    first; name the unknown key first, at its own line, with a "did you mean", then the missing one."""
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    missing = [e for e in errors if e["type"] == "missing"]
    if not unknown:
        return None
    loc = _strip_tags(tuple(unknown[0]["loc"]), data)
    parent, name = loc[:-1], str(loc[-1])
    siblings = [
        str(_strip_tags(tuple(e["loc"]), data)[-1])
        for e in missing
        if _strip_tags(tuple(e["loc"]), data)[:-1] == parent
    ]
    close = difflib.get_close_matches(name, siblings or _known_keys(parent, data), n=1, cutoff=0.6)
    message = f"unknown key {clip(repr(name), 60)}" + (
        f"; did you mean {close[0]!r}?"
        if close
        else " (check its spelling; see the contract for the keys a scenario may have)"
    )
    if siblings:
        where = ".".join(str(p) for p in (*parent, siblings[0]))
        message += (
            f" ({where} is required)" if close and close[0] == siblings[0] else f"; and {where} is required"
        )
    return loc, message


def _known_keys(parent: tuple, data: Any) -> list[str]:
    """The keys a scenario allows where `parent` points (a node's keys by its kind, or the top level's)."""
    from model.scenario.schema import NODE_TYPES

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
