"""The fitted scenario as YAML, with a comment beside every value saying where it came from.

A fitted number looks exactly like a typed one, and the person who reads the file next
(in review, or months later when the plan is questioned) needs to know which values were
measured, from which metric and how well, and which were guesses. So each line carries
`fitted`, `given` or `assumed`, the source and the interval. PyYAML cannot write comments,
so the document is emitted here line by line; each value is still dumped by PyYAML, and
the text is loaded back by the same loader `simulate` uses before it is written.
"""

from __future__ import annotations

from typing import Any

import yaml

from model.fit.params import Estimate

FLOW_KEYS = ("instance", "autoscale", "slo", "pricing", "growth_fit")
FLOW_LISTS = ("daily_profile", "weekly_profile")  # lists of numbers, on one line
COMMENT_COLUMN = 34


def comment_for(estimate: Estimate, unit: str = "") -> str:
    text = estimate.how
    if estimate.basis:
        text += f": {estimate.basis}"
    if estimate.ci95 is not None and estimate.how == "fitted":
        lo, hi = estimate.ci95
        text += f"; 95% CI {lo:.4g} to {hi:.4g}{(' ' + unit) if unit else ''}"
    return text


def render(document: dict, comments: dict[tuple, str], header: list[str]) -> str:
    lines = [f"# {h}" if h else "#" for h in header]
    _mapping(document, (), 0, comments, lines)
    return "\n".join(lines) + "\n"


def _mapping(data: dict, path: tuple, depth: int, comments: dict[tuple, str], lines: list[str]) -> None:
    pad = "  " * depth
    for key, value in data.items():
        here = path + (key,)
        if (
            isinstance(value, dict)
            and value
            and key not in FLOW_KEYS
            and not (depth >= 2 and path[0] == "nodes")
        ):
            lines.append(_with_comment(f"{pad}{key}:", comments.get(here)))
            _mapping(value, here, depth + 1, comments, lines)
        elif isinstance(value, list) and value and key not in FLOW_LISTS:
            lines.append(_with_comment(f"{pad}{key}:", comments.get(here)))
            for i, item in enumerate(value):
                lines.append(_with_comment(f"{pad}  - {_flow(item)}", comments.get(here + (i,))))
        else:
            lines.append(_with_comment(f"{pad}{key}: {_flow(value)}", comments.get(here)))


def _plain(value: Any) -> Any:
    """numpy scalars and tuples as the built-in types PyYAML's safe dumper knows."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


def _flow(value: Any) -> str:
    value = _plain(value)
    text = yaml.safe_dump(
        value, default_flow_style=True, width=10**6, sort_keys=False, allow_unicode=True
    ).strip()
    return text[:-3].strip() if text.endswith("\n...") or text.endswith("...") else text


def _with_comment(line: str, comment: str | None) -> str:
    if not comment:
        return line
    return f"{line:<{COMMENT_COLUMN}} # {comment}" if len(line) < COMMENT_COLUMN else f"{line}  # {comment}"
