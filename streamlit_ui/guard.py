"""What a visitor's link or upload may ask of the server: bounded size, no file paths, bounded work.

The app is reachable by anyone who can open its address, so everything a link (`yaml=`,
`set=`) or an upload carries is checked here before the loader or a solver touches it:

- size: a scenario's text is at most `MAX_SCENARIO_BYTES` (an upload, or a `yaml=` link
  after decompression, which stops reading at the cap rather than inflating a zip bomb);
- YAML shape: libyaml's event stream is read with aliases counted as the copies they
  expand to (a 228-byte "billion laughs" expands to 10^9 values), and refused past
  `MAX_YAML_VALUES`, `MAX_YAML_DEPTH` or `MAX_NODES` nodes, without building anything;
- files: a link or an upload cannot name a trace file (`workload.trace`, `arrivals: trace`),
  because the server would read whatever path it names. A scenario in the server's own
  scenarios folder keeps its own trace;
- work in the server thread: the analytic solver and the loader run in the script thread
  (the instant answer), so a scenario is refused past `MAX_NODES` nodes or `MAX_COUNT`
  servers, partitions or consumers on one node; simulations run in the pool with a time limit.

These are the app's own limits (the model has its own, for the CLI); each refusal is a
`model.scenario.reader.ScenarioError`, shown by the page as one friendly message.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any

import yaml

from model.scenario.limits import limit
from model.scenario.strict_yaml import SAFE_LOADER

# The model's bounds (model/scenario/limits.py, raised with HEADROOM_MAX_<NAME>) are checked here first, on the
# event stream, before the reader builds anything; the app's own are tighter where the server thread solves.
MAX_SCENARIO_BYTES = limit("UPLOAD_BYTES")  # an uploaded scenario, or a yaml= link's text after decompression
MAX_LINK_CHARS = 1_400_000  # a yaml= parameter (base64 of the zipped text)
MAX_CHANGES = 200  # set= parameters in one link
MAX_CHANGE_CHARS = 10_000  # one set= parameter
MAX_YAML_VALUES = limit(
    "YAML_NODES"
)  # YAML values with aliases counted as expanded (a 200-node scenario has ~3,000)
MAX_YAML_DEPTH = limit("YAML_DEPTH")  # nesting of mappings and lists
MAX_NODES = min(
    200, limit("NODES")
)  # nodes in one scenario the app will solve (its instant answer runs in the server thread)
MAX_COUNT = 10_000  # replicas, cpus, concurrency, partitions, consumers... on one node
MAX_ECHO_CHARS = 200  # characters of a visitor's input quoted back in a message
COUNT_KEYS = (
    "replicas",
    "cpus",
    "concurrency",
    "read_replicas",
    "brokers",
    "partitions",
    "consumers",
    "nodes",
    "max_replicas",
    "min_replicas",
    "connections",
    "pool_size",
)


def refused(source: str, path: str, message: str):
    from model.scenario.reader import ScenarioError

    return ScenarioError(source, path, message)


def echo(text: str) -> str:
    """A visitor's input as a message may quote it: at most MAX_ECHO_CHARS characters."""
    text = str(text)
    return text if len(text) <= MAX_ECHO_CHARS else text[:MAX_ECHO_CHARS] + f"… ({len(text):,} characters)"


# ---------------------------------------------------------------- size


def check_size(size_bytes: int, source: str) -> None:
    if size_bytes > MAX_SCENARIO_BYTES:
        raise refused(
            source,
            "",
            f"is {size_bytes / 1e6:.1f} MB; the app opens scenarios up to "
            f"{MAX_SCENARIO_BYTES / 1e6:.0f} MB (use the CLI for larger files)",
        )


def inflate(data: bytes, source: str = "the link") -> bytes:
    """zlib-decompress at most MAX_SCENARIO_BYTES: a zip bomb stops at the cap, not at memory's end."""
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_SCENARIO_BYTES + 1)
    if len(out) > MAX_SCENARIO_BYTES or inflater.unconsumed_tail:
        raise refused(
            source,
            "",
            f"holds a scenario larger than {MAX_SCENARIO_BYTES / 1e6:.0f} MB; "
            "the app opens scenarios up to that size",
        )
    if not inflater.eof:
        raise zlib.error("incomplete data")
    return out


# ---------------------------------------------------------------- YAML shape


def check_yaml(text: str, source: str) -> None:
    """Refuse text too large, too deep, with too many values (aliases counted as the copies they
    expand to) or too many nodes for the app to load; a ScenarioError says which.

    Reads libyaml's event stream and stops at the first bound crossed, so a hostile text costs
    what it takes to reach the bound, not what it would expand to; nothing is built."""
    check_size(len(text.encode("utf-8")), source)
    if _nesting(text) > MAX_YAML_DEPTH:
        raise refused(source, "", f"is nested more than {MAX_YAML_DEPTH} levels deep")
    sizes: dict[str, int] = {}  # anchor -> values it stands for
    stack: list[_Open] = []
    total = 0
    try:
        for event in yaml.parse(text, Loader=SAFE_LOADER):
            if isinstance(event, yaml.CollectionEndEvent):
                done = stack.pop()
                total += 1
                if done.anchor:
                    sizes[done.anchor] = total - done.before
                continue
            if not isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
                continue
            key = None
            if stack and stack[-1].mapping:
                parent = stack[-1]
                if parent.next_is_key:
                    parent.keys += 1
                    parent.key = event.value if isinstance(event, yaml.ScalarEvent) else None
                    if parent.is_nodes and parent.keys > MAX_NODES:
                        raise refused(
                            source,
                            "nodes",
                            f"has more than {MAX_NODES} nodes; the app solves up to "
                            f"{MAX_NODES} (use the CLI for larger graphs)",
                        )
                else:
                    key = parent.key
                parent.next_is_key = not parent.next_is_key
            if isinstance(event, yaml.ScalarEvent):
                total += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                total += sizes.get(event.anchor, 1)
            else:
                stack.append(
                    _Open(
                        event.anchor,
                        total,
                        isinstance(event, yaml.MappingStartEvent),
                        is_nodes=key == "nodes" and len(stack) == 1,
                    )
                )
                if len(stack) > MAX_YAML_DEPTH:
                    raise refused(source, "", f"is nested more than {MAX_YAML_DEPTH} levels deep")
            if total > MAX_YAML_VALUES:
                raise refused(
                    source,
                    "",
                    f"expands to more than {MAX_YAML_VALUES:,} YAML values (aliases counted "
                    "as copies); the app refuses it (a scenario needs a few thousand)",
                )
    except yaml.YAMLError:
        return  # the loader reports the syntax error with its line


@dataclass
class _Open:
    """A mapping or sequence being read: its anchor, the count when it opened, and (mappings) its keys."""

    anchor: str | None
    before: int
    mapping: bool
    is_nodes: bool = False
    next_is_key: bool = True
    key: str | None = None
    keys: int = 0


_QUOTED = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'')


def _nesting(text: str) -> int:
    """An upper bound on the YAML's nesting: flow brackets open at once, or block indentation steps."""
    depth = deepest = 0
    for bracket in re.findall(r"[\[\]{}]", _QUOTED.sub("", text)):
        depth = depth + 1 if bracket in "[{" else max(0, depth - 1)
        deepest = max(deepest, depth)
    indents = {len(line) - len(line.lstrip(" -")) for line in text.splitlines() if line.strip()}
    return max(deepest, len(indents))


def check_change_text(raw: str, source: str = "the link") -> None:
    """One `set=PATH=VALUE` before its value is parsed as YAML."""
    if len(raw) > MAX_CHANGE_CHARS:
        raise refused(
            source, "", f"has a change of {len(raw):,} characters; the app reads up to {MAX_CHANGE_CHARS:,}"
        )
    _, _, value = raw.partition("=")
    if value.strip():
        check_yaml(value, source)


# ---------------------------------------------------------------- no file paths

TRACE_HINT = (
    "a link or an upload cannot name a file on the server; put the scenario and its trace in the "
    "server's scenarios folder, or run it with the CLI"
)


def check_no_trace(text: str, source: str) -> None:
    """Uploaded or linked YAML may not name a trace file (the server would read that path).

    Call it after `check_yaml`: the text is then small enough to load, and loading it resolves
    anchors and merge keys (`<<: *base`) that could otherwise hide a trace path."""
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError):
        return  # the loader reports it, with its line
    workload = data.get("workload") if isinstance(data, dict) else None
    if not isinstance(workload, dict):
        return
    if workload.get("trace") not in (None, "") or workload.get("arrivals") == "trace":
        raise refused(source, "workload.trace", f"uses a trace file: {TRACE_HINT}")


def check_changes(changes: dict[str, Any], base_uses_trace: bool = False) -> None:
    """What-if or link changes may not set a trace path, nor switch arrivals to a trace the file lacks."""
    for path, value in changes.items():
        keys = [k.strip() for k in str(path).split(".")]
        if keys[0] != "workload":
            continue
        if len(keys) == 1:
            value = value if isinstance(value, dict) else {}
            if "trace" in value or (value.get("arrivals") == "trace" and not base_uses_trace):
                raise refused("the link", "workload.trace", f"sets a trace file: {TRACE_HINT}")
        elif keys[1] == "trace":
            raise refused("the link", "workload.trace", f"sets a trace file: {TRACE_HINT}")
        elif keys[1] == "arrivals" and value == "trace" and not base_uses_trace:
            raise refused("the link", "workload.arrivals", f"switches to a trace file: {TRACE_HINT}")


# ---------------------------------------------------------------- work in the server thread


def check_scenario(scenario, source: str = "the scenario") -> None:
    """A validated Scenario small enough for the instant (analytic) answer in the server thread."""
    if len(scenario.nodes) > MAX_NODES:
        raise refused(
            source,
            "nodes",
            f"has {len(scenario.nodes):,} nodes; the app solves up to {MAX_NODES} "
            "(use the CLI for larger graphs)",
        )
    for name, node in scenario.nodes.items():
        data = node.model_dump()
        stack = [(f"nodes.{name}", data)]
        while stack:
            where, here = stack.pop()
            for key, value in here.items():
                if isinstance(value, dict):
                    stack.append((f"{where}.{key}", value))
                elif key in COUNT_KEYS and isinstance(value, (int, float)) and value > MAX_COUNT:
                    raise refused(
                        source,
                        f"{where}.{key}",
                        f"is {value:,.0f}; the app plans up to {MAX_COUNT:,} per node (use the CLI for more)",
                    )
