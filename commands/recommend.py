"""`recommend`: the cheapest configuration that meets the SLO, within the risk rules (issue 13)."""

from __future__ import annotations

import argparse

from commands.checks import months_option, scenario_of
from commands.errors import EXIT_OK, EXIT_SLO, InputError
from commands.options import add_scenario_options, add_strict_prices
from commands.progress import progress_bar
from model.planning.recommend import recommend
from model.planning.report import json_text
from model.planning.risk import rules_for

# The risk options by the name the model's messages use for them.
RISK_FLAGS = {
    "headroom_pct": "--headroom-pct",
    "must_hold_rps": "--must-hold-rps",
    "peak_factor": "--peak-factor",
}


def add_options(parser: argparse.ArgumentParser) -> None:
    add_scenario_options(parser)
    parser.add_argument("--months", type=int, default=0, metavar="N", help="plan for the load N months ahead")
    parser.add_argument("--check-slo", action="store_true", help="exit 3 when no configuration meets the SLO")
    add_strict_prices(parser)
    risk = parser.add_argument_group("risk (issue 13): what the cheapest configuration must also do")
    risk.add_argument(
        "--headroom-pct",
        type=float,
        default=None,
        metavar="PCT",
        help="no pool busier than PCT%% at the planned load (default 75)",
    )
    risk.add_argument(
        "--zone-loss",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="survive losing one zone (default: on for production-like scenarios)",
    )
    risk.add_argument(
        "--must-hold-rps",
        type=float,
        default=None,
        metavar="RPS",
        help="a known peak the SLO must hold at (never size below it)",
    )
    risk.add_argument(
        "--peak-factor",
        type=float,
        default=None,
        metavar="F",
        help="a declared peak event of F x the planned load (as `peak --factor`)",
    )


def run(args) -> int:
    scenario = scenario_of(args)
    risk = dict(
        headroom_pct=args.headroom_pct,
        zone_loss=args.zone_loss,
        must_hold_rps=args.must_hold_rps,
        peak_factor=args.peak_factor,
    )
    try:
        rules_for(scenario, scenario.workload.rate_rps, **risk)  # bad values: exit 2 before any search
    except ValueError as exc:
        message = str(exc)
        for key, flag in RISK_FLAGS.items():
            message = message.replace(key, flag)
        raise InputError(message) from None
    rec = recommend(
        scenario,
        months=months_option(args.months),
        seed=args.seed,
        progress=progress_bar(not args.json),
        **risk,
    )
    print(json_text(rec.to_json()) if args.json else rec.to_text())
    return EXIT_SLO if args.check_slo and not rec.slo.met else EXIT_OK
