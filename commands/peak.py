"""`peak`: a peak event (F x the planning load for D days) with the HPA acting (issue 13)."""

from __future__ import annotations

import argparse

from commands.checks import requests_option, scenario_of
from commands.errors import EXIT_OK, EXIT_SLO, InputError
from commands.options import add_scenario_options
from commands.progress import progress_bar
from model.planning.peak import peak
from model.planning.peak_event import PeakEvent, PeakInputError
from model.planning.peak_report import peak_text
from model.planning.report import json_text
from model.queueing.run_size import PEAK_REQUESTS


def add_options(parser: argparse.ArgumentParser) -> None:
    add_scenario_options(parser)
    parser.add_argument(
        "--factor", type=float, required=True, metavar="F", help="the plateau, times the planning load"
    )
    parser.add_argument(
        "--days", type=float, default=1.0, metavar="D", help="days at the plateau (default 1)"
    )
    parser.add_argument(
        "--ramp-minutes", type=float, default=30.0, metavar="M", help="ramp up and decay (default 30)"
    )
    parser.add_argument(
        "--target-util", type=float, default=75.0, metavar="PCT", help="additions keep every node under it"
    )
    parser.add_argument("--requests", type=int, default=None, metavar="N", help="arrivals simulated, at most")
    parser.add_argument("--check-slo", action="store_true", help="exit 3 when the system does not hold")


def run(args) -> int:
    try:
        event = PeakEvent(args.factor, args.days, args.ramp_minutes)
    except PeakInputError as exc:
        raise InputError(str(exc)) from None
    if not (0 < args.target_util <= 100):
        raise InputError(f"--target-util must be above 0 and at most 100 percent (got {args.target_util:g})")
    requests = requests_option(args.requests, PEAK_REQUESTS)
    scenario = scenario_of(args)
    result = peak(
        scenario, event, args.target_util / 100.0, args.seed, requests, progress=progress_bar(not args.json)
    )
    print(json_text(result.to_json()) if args.json else peak_text(result))
    return EXIT_SLO if args.check_slo and not result.holds else EXIT_OK
