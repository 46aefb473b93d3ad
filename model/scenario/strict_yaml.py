"""One way to read the YAML a user hands us (scenarios and fit files), bounded and strict.

Both file kinds are read the same way so that a mistake is reported the same way:
`file: key.path (line N): message`. The reader refuses before doing real work what could
take the machine down: a file above the size limit, anything that is not a regular file
(`/dev/zero` never ends), YAML aliases (a 228-byte "billion laughs" expands to gigabytes
when anything walks it), nesting deeper and documents with more values than any real file
has. The bounds are checked on the parser's event stream first (nothing is built yet); then the
document is composed once (the node tree gives each key's line) and the data constructed from
that tree. Both passes run in libyaml where PyYAML has it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Callable

import yaml
from pydantic import ValidationError

from model.scenario.limits import LimitError, clip, limit, over


class StrictYamlError(ValueError):
    """A refused file, ready to print as one line: `file: key.path (line N): message`."""

    def __init__(self, file: str, key_path: str, line: int | None, message: str):
        self.file, self.key_path, self.line = clip(file, 300), clip(key_path, 200), line
        self.message = clip(message, 400)
        where = f"{self.file}: {self.key_path}" if key_path else self.file
        if line is not None:
            where += f" (line {line})"
        super().__init__(f"{where}: {self.message}")


def display_name(path: str | Path) -> str:
    """How a message names a file: relative to the working folder when it is below it (the server's
    own layout is nobody's business), else as given."""
    text = str(path)
    if os.path.isabs(text):
        try:
            return str(Path(text).relative_to(Path.cwd()))
        except ValueError:
            return text
    return text


def read_bounded(path: str | Path, max_bytes: int, limit_name: str, what: str = "file") -> bytes:
    """The bytes of a regular file no larger than `max_bytes`, or OSError/LimitError saying what is wrong.

    The file is opened first and checked through its descriptor, so what is checked is what is read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block the open
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(f"is a folder, not a {what}")
        if not stat.S_ISREG(info.st_mode):
            raise LimitError(f"is not a regular file (a device, pipe or socket cannot be a {what})")
        message = over(limit_name, info.st_size, f"the {what}'s size")
        if message:
            raise LimitError(message)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # files that report no size (/proc) are read only up to the limit
        raise LimitError(over(limit_name, len(data), f"the {what}'s size") or "is too large")
    return data


def read_text_file(
    path: str | Path, file: str, error: Callable[..., StrictYamlError], what: str = "YAML file"
) -> str:
    """A file's text within the YAML size limit, or `error(file, "", None, message)`."""
    try:
        data = read_bounded(path, limit("YAML_BYTES"), "YAML_BYTES", what)
    except FileNotFoundError:
        raise error(file, "", None, "no such file") from None
    except IsADirectoryError:
        raise error(file, "", None, f"is a folder, not a {what}") from None
    except LimitError as exc:
        raise error(file, "", None, str(exc)) from None
    except OSError as exc:
        raise error(
            file, "", None, f"cannot be read ({exc.__class__.__name__}: {exc.strerror or 'error'})"
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(file, "", None, "is not UTF-8 text") from None


# libyaml's loader where PyYAML was built with it (the wheels are): it parses 5-10x faster than the
# pure-Python one, which stays the fallback. Every YAML reader in the project uses this one.
SAFE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Refused(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _check_bounds(text: str) -> None:
    """Refuse aliases, more values than the limit and deeper nesting, from the parser's event
    stream: it streams without recursion and before any tree is built, so a hostile text costs
    what it takes to reach a bound. A value's depth counts the collections around it and itself."""
    values, depth = 0, 0
    max_values, max_depth = limit("YAML_NODES"), limit("YAML_DEPTH")
    for event in yaml.parse(text, Loader=SAFE_LOADER):
        if isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            continue
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                event.start_mark.line + 1, "YAML aliases (*name) are not allowed here; write the value out"
            )
        if not isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            continue
        values += 1
        if values > max_values:
            raise _Refused(
                event.start_mark.line + 1,
                over("YAML_NODES", values, "the number of values") or "too many values",
            )
        if depth + 1 > max_depth:
            raise _Refused(
                event.start_mark.line + 1,
                f"nested deeper than the limit of {max_depth} levels "
                "(raise it with the environment variable HEADROOM_MAX_YAML_DEPTH)",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1


def parse(text: str, file: str, error: Callable[..., StrictYamlError]) -> tuple[Any, yaml.Node | None]:
    """(data, node tree) of one YAML document within the bounds, or `error(file, "", line, message)`."""
    message = over("YAML_BYTES", len(text.encode("utf-8", "surrogatepass")), "the text's size")
    if message:
        raise error(file, "", None, message)
    loader = None
    try:
        _check_bounds(text)
        loader = SAFE_LOADER(text)
        tree = loader.get_single_node()
        data = loader.construct_document(tree) if tree is not None else None
    except _Refused as exc:
        raise error(file, "", exc.line, exc.message) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise error(
            file, "", mark.line + 1 if mark else None, f"is not valid YAML: {clip(problem, 120)}"
        ) from None
    except RecursionError:
        raise error(file, "", None, "is nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, tree


def parse_value(raw: str) -> Any:
    """A command-line value (`--set`, `--grid`) read as YAML within the same bounds; plain text if not YAML."""

    def refuse(file: str, key_path: str, line: int | None, message: str) -> LimitError:
        return LimitError(message)

    try:
        return parse(raw, "value", refuse)[0]
    except LimitError as exc:
        if "not valid YAML" in str(exc):
            return raw
        raise


def pick_error(exc: ValidationError) -> dict:
    """The one pydantic error to report: a misspelt key shows up as "unknown key" and as "missing"
    for the right one, so the unknown key wins; otherwise the first."""
    errors = exc.errors()
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def describe(err: dict, unknown_key: str) -> str:
    """A pydantic error's message in our words, with (a clipped copy of) the value it got."""
    kind = err["type"]
    if kind == "extra_forbidden":
        return unknown_key
    if kind == "missing":
        return "is required"
    message = err["msg"].removeprefix("Value error, ")
    if "input" in err and kind not in ("model_type", "dict_type", "model_attributes_type"):
        message += f" (got {clip(repr(err['input']), 60)})"
    return message


YES_NO_KEYS = frozenset(
    {"blocking_calls", "jitter"}
)  # the only keys of either file kind that take true/false


def find_yes_no(data: Any, yes_no_keys: frozenset[str] = YES_NO_KEYS) -> tuple | None:
    """The key path of a true/false given where a number or text belongs (`replicas: true` is a
    typo, not 1, though pydantic would read it as 1), or None. Walked without recursion."""
    stack: list[tuple[tuple, Any]] = [((), data)]
    while stack:
        loc, here = stack.pop()
        items = here.items() if isinstance(here, dict) else enumerate(here) if isinstance(here, list) else ()
        for key, value in items:
            if isinstance(value, bool) and key not in yes_no_keys:
                return loc + (key,)
            if isinstance(value, (dict, list)):
                stack.append((loc + (key,), value))
    return None
