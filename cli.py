"""Headroom's command line (contract section 2): simulate, recommend, forecast, users, ramp, whatif,
fit, sweep, diff, peak.

Exit codes: 0 success; 2 invalid input (one message on stderr); 3 with --check-slo when
the SLO is not met. With --json, stdout carries only the JSON document.

Each command lives in its own module of `commands/` (its options and its run). Only the module of
the command given is imported, so a command's start-up is its own imports: `--help` loads nothing,
`simulate` never loads the fit, pandas or scipy, and `diff` never loads the metric sources.
tests/test_cli_imports.py guards this, benchmarks/cli_startup.py and benchmarks/diff.py time it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from types import ModuleType

from commands import COMMANDS
from commands.errors import EXIT_INVALID, EXIT_OK, is_user_error

# Headroom uses no pydantic plugins. Looking for them reads the metadata of every installed
# package the first time a model class is built (70 ms in a 130-package environment, a tenth of a
# diff), so the command line skips the search (pydantic's documented PYDANTIC_DISABLE_PLUGINS).
# Someone who needs a plugin sets the variable themselves (empty enables them all); that is kept.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f"commands.{name}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command is listed; only `command`'s options are declared (the one it will parse)."""
    parser = argparse.ArgumentParser(
        prog="python cli.py",
        description="Headroom: capacity and cost planning "
        "for service graphs (queueing simulation and theory).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == command:
            command_module(name).add_options(p)
    return parser


def _command_in(argv: list[str]) -> str | None:
    """The command the arguments name: the first one that is not an option (the top-level parser
    has no option that takes a value)."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _command_in(argv)
    args = build_parser(command).parse_args(argv)
    try:
        return command_module(args.command).run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): nothing is wrong, stop writing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        from model.scenario.limits import clip

        if is_user_error(exc):
            print(f"error: {clip(exc, 600)}", file=sys.stderr)
            return EXIT_INVALID
        # a bug, not bad input: say so plainly, keep the trace for debugging
        if os.environ.get("HEADROOM_DEBUG"):
            raise
        print(
            f"internal error: {exc.__class__.__name__}: {clip(exc)}\n(set HEADROOM_DEBUG=1 for the traceback, "
            "and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
