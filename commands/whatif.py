"""`whatif`: a failure (a zone lost, a read replica lost, a cache flush, a database failover)."""

from __future__ import annotations

import argparse

from commands.checks import scenario_of
from commands.errors import EXIT_OK, EXIT_SLO, InputError
from commands.options import add_scenario_options
from model.planning import failures
from model.planning.report import json_text


def add_options(parser: argparse.ArgumentParser) -> None:
    add_scenario_options(parser)
    parser.add_argument(
        "--failure", required=True, choices=["zone", "read-replica", "cache-flush", "failover"]
    )
    parser.add_argument("--node", help="the database or cache it happens to (default: every one / the first)")
    parser.add_argument(
        "--share", type=float, default=1 / 3, help="zone: the share of every node's units lost"
    )
    parser.add_argument(
        "--pause-s", type=float, default=30.0, help="failover: seconds the primary stops answering"
    )
    parser.add_argument("--method", choices=["sim", "analytic"], default="sim")
    parser.add_argument(
        "--check-slo", action="store_true", help="exit 3 when the SLO does not hold through the failure"
    )


def run(args) -> int:
    scenario = scenario_of(args)
    common = {"rate_rps": None, "seed": args.seed}
    try:
        if args.failure == "zone":
            if not 0 < args.share < 1:
                raise InputError("--share must be between 0 and 1 (a third is one zone of three)")
            result = failures.lose_zone(scenario, args.share, method=args.method, **common)
        elif args.failure == "read-replica":
            result = failures.lose_read_replica(scenario, args.node, method=args.method, **common)
        elif args.failure == "cache-flush":
            result = failures.cache_flush(scenario, args.node, method=args.method, **common)
        else:
            if not args.pause_s > 0:
                raise InputError("--pause-s must be a positive number of seconds")
            result = failures.db_failover(scenario, args.node, pause_s=args.pause_s, **common)
    except ValueError as exc:  # the scenario has no such part (no cache to flush, no replica to lose)
        raise InputError(f"{args.file}: {exc}") from None
    print(json_text(result.to_json()) if args.json else result.to_text())
    return EXIT_SLO if args.check_slo and not result.slo.met else EXIT_OK
