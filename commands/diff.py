"""`diff`: what a change does to latency, errors, runway and cost, BASE against HEAD (issue 16),
as a table, JSON or a pull-request comment, with gates for CI."""

from __future__ import annotations

import argparse
import math
import sys

from commands.checks import check_rate, check_users, months_option, requests_option
from commands.errors import EXIT_OK, EXIT_SLO, InputError
from commands.options import add_scenario_options, add_strict_prices
from model.planning.diff import diff
from model.planning.diff_report import diff_markdown, diff_text
from model.planning.forecast import FORECAST_REQUESTS
from model.planning.report import json_text


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", metavar="BASE", help="scenario file, or git:REF:PATH (read with git show)")
    parser.add_argument("head", metavar="HEAD", help="scenario file, or git:REF:PATH")
    add_scenario_options(parser, file_arg=False)
    parser.add_argument(
        "--method",
        choices=["sim", "analytic"],
        default="analytic",
        help="queueing formulas (default, instant) or simulation (with --seed, to confirm)",
    )
    parser.add_argument(
        "--months", type=int, default=0, metavar="N", help="compare at the load N months ahead"
    )
    parser.add_argument(
        "--requests", type=int, default=None, metavar="N", help="sim: completed requests per side"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="a pull-request comment: verdict, table, details"
    )
    parser.add_argument("--check-slo", action="store_true", help="exit 3 when HEAD misses its SLO")
    parser.add_argument(
        "--max-p99-increase",
        type=float,
        default=None,
        metavar="PCT",
        help="exit 3 when HEAD's p99 is more than PCT%% above BASE's",
    )
    parser.add_argument(
        "--max-cost-increase",
        type=float,
        default=None,
        metavar="USD",
        help="exit 3 when HEAD's monthly bill is more than USD above BASE's",
    )
    add_strict_prices(parser)


def run(args) -> int:
    if args.json and args.markdown:
        raise InputError("choose one of --json and --markdown")
    for flag, value in (
        ("--max-p99-increase", args.max_p99_increase),
        ("--max-cost-increase", args.max_cost_increase),
    ):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise InputError(f"{flag} must be a number of 0 or more (got {value:g})")
    check_rate(args.rate)
    check_users(args)
    requests = requests_option(args.requests, FORECAST_REQUESTS)
    result = diff(
        args.base,
        args.head,
        months=months_option(args.months),
        method=args.method,
        seed=args.seed,
        overrides=args.overrides,
        rate_rps=args.rate,
        requests=requests,
        strict_prices=args.strict_prices,
        users=args.users,
    )
    failures = result.gate_failures(args.check_slo, args.max_p99_increase, args.max_cost_increase)
    if args.json:
        print(json_text({**result.to_json(), "check": {"passed": not failures, "failures": failures}}))
    else:
        print(diff_markdown(result) if args.markdown else diff_text(result))
    for failure in failures:
        print(f"check failed: {failure}", file=sys.stderr)
    return EXIT_SLO if failures else EXIT_OK
