"""The bounds on what one input may ask for, checked before any work starts.

A scenario, a fit file, a trace or a command line can come from someone other than the
person running Headroom (a link, an upload, a file in a shared folder). Without bounds one
small input can ask for a billion servers or a 10,000-node dense matrix and take the whole
machine with it. Every bound here is far above any real system the planner is meant for;
a refusal says the limit and how to raise it: set the environment variable
`HEADROOM_MAX_<NAME>` (for example `HEADROOM_MAX_REPLICAS=50000`) for the process that runs
the CLI or the app. docs/security.md lists them all.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    name: str  # the environment variable's suffix: HEADROOM_MAX_<name>
    default: int
    what: str  # what it counts, for the message ("servers per node")


LIMITS: dict[str, Limit] = {
    limit.name: limit
    for limit in (
        Limit("YAML_BYTES", 1_000_000, "bytes in a scenario or fit file"),
        Limit("UPLOAD_BYTES", 1_000_000, "bytes in one upload or link (after decompression)"),
        Limit("YAML_NODES", 20_000, "YAML values in one file"),
        Limit("YAML_DEPTH", 32, "levels of YAML nesting"),
        Limit("TRACE_BYTES", 64_000_000, "bytes in a trace file"),
        Limit("NODES", 300, "nodes in one scenario"),
        Limit("CALL_DEPTH", 60, "hops on the longest chain of calls"),
        Limit("VISITS", 10_000, "node visits per request (all calls, repeats multiplied)"),
        Limit("REPLICAS", 10_000, "replicas, cache nodes, read replicas or brokers of one node"),
        Limit("CPUS", 1_024, "cores per replica"),
        Limit("CONCURRENCY", 100_000, "concurrent requests per replica"),
        Limit("CONSUMERS", 10_000, "consumers of one Kafka node"),
        Limit("PARTITIONS", 10_000, "partitions of one Kafka node"),
        Limit("BACKLOG_STATES", 5_000_000, "Kafka backlog states (partitions per consumer x max_backlog)"),
        Limit("MS", 86_400_000, "milliseconds in one service time or timeout (a day)"),
        Limit("RATE_RPS", 10_000_000, "requests per second at the entry"),
        Limit("USERS", 1_000_000, "concurrent users of a closed workload"),
        Limit("GROWTH_PCT", 1_000, "percent growth per month"),
        Limit("SERVERS", 1_000_000, "servers in one pool (replicas x cores, or x concurrency)"),
        Limit("REQUESTS", 10_000_000, "requests in one simulation (--requests)"),
        Limit("GRID_POINTS", 10_000, "grid points in one sweep"),
        Limit("REPLICATIONS", 1_000, "replications of each sweep point"),
        Limit("RUNS", 20_000, "runs in one sweep (grid points x replications)"),
        Limit("WORKERS", 64, "local sweep workers"),
    )
}

ECHO_CHARS = 200  # at most this much of any input a message repeats


class LimitError(ValueError):
    """An input that asks for more than a bound allows; the message says which and how to raise it."""


def limit(name: str) -> int:
    """The bound `name`, or its raise from HEADROOM_MAX_<name> (a positive whole number)."""
    spec = LIMITS[name]
    raw = os.environ.get(f"HEADROOM_MAX_{name}", "").strip().replace("_", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else spec.default


def over(name: str, value: float, subject: str = "") -> str | None:
    """The refusal for `value` above bound `name`, or None when it is within."""
    bound = limit(name)
    if value <= bound:
        return None
    spec = LIMITS[name]
    shown = f"{value:,.0f}" if value < 1e15 else f"{value:.3g}"
    lead = f"{subject} is {shown}" if subject else f"{shown}"
    return (
        f"{lead}, above the limit of {bound:,} {spec.what} "
        f"(raise it with the environment variable HEADROOM_MAX_{name})"
    )


def check(name: str, value: float, subject: str = "") -> None:
    """Raise LimitError when `value` is above bound `name`."""
    message = over(name, value, subject)
    if message:
        raise LimitError(message)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_upload(size_bytes: int, what: str = "the upload") -> None:
    """For the app: refuse an upload or a link's (decompressed) text above UPLOAD_BYTES before reading it.

    Decompress with a cap, e.g. `zlib.decompressobj().decompress(data, limit("UPLOAD_BYTES") + 1)`,
    then call this with the length: one byte over means the whole was larger."""
    check("UPLOAD_BYTES", size_bytes, f"{what}'s size")


def clip(text: object, chars: int = ECHO_CHARS) -> str:
    """`text` safe to repeat in a message: control characters (ANSI escapes) shown as \\xNN, cut to `chars`."""
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
    return shown if len(shown) <= chars else shown[:chars] + f"... ({len(shown) - chars:,} more characters)"


def printable(text: str) -> str:
    """A name for the terminal: control characters (ANSI escapes, newlines) shown as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
