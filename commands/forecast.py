"""`forecast`: month by month, the load, the bill, latency and the SLO; and the runway."""

from __future__ import annotations

import argparse
import math

from commands.checks import months_option, scenario_of
from commands.errors import EXIT_OK, EXIT_SLO, InputError
from commands.options import add_scenario_options, add_strict_prices
from model.planning.calendar_months import parse_month
from model.planning.forecast import forecast
from model.planning.report import json_text


def add_options(parser: argparse.ArgumentParser) -> None:
    add_scenario_options(parser)
    parser.add_argument(
        "--months",
        type=int,
        default=None,
        metavar="N",
        help="months ahead (default: workload.horizon_months)",
    )
    parser.add_argument("--method", choices=["sim", "analytic"], default="analytic")
    parser.add_argument(
        "--growth-sd",
        type=float,
        default=None,
        metavar="PCT",
        help="uncertainty of the monthly growth (points); adds a 90%% band of load, cost and p99",
    )
    parser.add_argument(
        "--check-slo",
        action="store_true",
        help="exit 3 when a month in the horizon misses the SLO (or, with --budget, exceeds the budget)",
    )
    parser.add_argument(
        "--budget", type=float, default=None, metavar="USD", help="a monthly budget: the first month over it"
    )
    parser.add_argument(
        "--start",
        default=None,
        metavar="YYYY-MM",
        help="the calendar month of month 0 (default workload.start_month, else this month)",
    )
    parser.add_argument(
        "--growth",
        type=float,
        default=None,
        metavar="PCT",
        help="monthly growth instead of the file's (fitted) one",
    )
    add_strict_prices(parser)


def run(args) -> int:
    scenario = scenario_of(args)
    months = months_option(args.months if args.months is not None else scenario.workload.horizon_months)
    if args.growth_sd is not None and not 0 <= args.growth_sd <= 100:
        raise InputError(f"--growth-sd must be from 0 to 100 percentage points (got {args.growth_sd:g})")
    if args.budget is not None and not (math.isfinite(args.budget) and args.budget >= 0):
        raise InputError(f"--budget must be a sum of 0 or more a month (got {args.budget:g})")
    if args.growth is not None and not (math.isfinite(args.growth) and -100 < args.growth <= 1000):
        raise InputError(
            f"--growth must be above -100 and at most 1000 percent a month (got {args.growth:g})"
        )
    if args.start is not None:
        try:
            parse_month(args.start)
        except ValueError as exc:
            raise InputError(f"--start: {exc}") from None
    result = forecast(
        scenario,
        months=months,
        method=args.method,
        seed=args.seed,
        growth_sd_pct=args.growth_sd,
        budget_usd=args.budget,
        start=args.start,
        growth_pct=args.growth,
    )
    print(json_text(result.to_json()) if args.json else result.to_text())
    failed = result.runway_months is not None or result.first_over_budget is not None
    return EXIT_SLO if args.check_slo and failed else EXIT_OK
