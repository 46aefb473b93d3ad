"""`ramp`: a load-test ramp (users stepped up over time), simulated step by step, beside the
user's own Locust or k6 run when one is given."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from commands.checks import scenario_of
from commands.errors import EXIT_OK, InputError
from commands.options import add_scenario_options
from commands.progress import progress_bar
from model.planning.ramp import ramp
from model.planning.report import json_text
from model.queueing.sim.load_test import MAX_DURATION_S
from model.queueing.sim.ramp import MAX_STEPS
from model.scenario.limits import check, printable


def add_options(parser: argparse.ArgumentParser) -> None:
    add_scenario_options(parser)
    parser.add_argument(
        "--from", dest="from_users", type=int, default=None, metavar="N", help="users at the first step"
    )
    parser.add_argument(
        "--to", dest="to_users", type=int, default=None, metavar="N", help="users at the last step"
    )
    parser.add_argument(
        "--steps", type=int, default=10, metavar="K", help="steps from --from to --to (default 10)"
    )
    parser.add_argument(
        "--step-s", type=float, default=60.0, metavar="SECONDS", help="each step's length (default 60)"
    )
    parser.add_argument(
        "--locust", metavar="PREFIX_stats_history.csv", help="your Locust run: its steps beside ours"
    )
    parser.add_argument("--k6", metavar="POINTS.json", help="your k6 run (--out json): its steps beside ours")


def run(args) -> int:
    scenario = scenario_of(args)
    if not scenario.workload.closed:
        raise InputError(f"{printable(args.file)}: a ramp steps users: give --users N (or workload.users)")
    if args.locust and args.k6:
        raise InputError("give --locust or --k6, not both")
    observed, source, schedule = None, None, None
    if args.locust or args.k6:
        # the load-test readers live with the fit; only a ramp beside a user's own run needs them
        from model.fit.loadtest_steps import k6_steps, locust_steps

        path = args.locust or args.k6
        observed = locust_steps(path) if args.locust else k6_steps(path)
        source = f"{'locust' if args.locust else 'k6'} {printable(Path(path).name)}"
        if args.to_users is None:  # the same steps as the user's own run
            schedule = [(o.start_s, o.users) for o in observed]
    to_users = args.to_users if args.to_users is not None else scenario.workload.users
    from_users = (
        args.from_users if args.from_users is not None else max(1, round(to_users / max(args.steps, 1)))
    )
    step_s = observed[-1].duration_s if schedule else args.step_s
    if not 1 <= args.steps <= MAX_STEPS:
        raise InputError(f"--steps must be from 1 to {MAX_STEPS} (got {args.steps})")
    if not (math.isfinite(step_s) and step_s > 0):
        raise InputError(f"--step-s must be a positive number of seconds (got {step_s:g})")
    for flag, users in (("--from", from_users), ("--to", to_users)):
        if users < 1:
            raise InputError(f"{flag} must be 1 user or more (got {users})")
        check("USERS", users, flag)
    total_s = (schedule[-1][0] if schedule else (args.steps - 1) * step_s) + step_s
    if total_s > MAX_DURATION_S:
        raise InputError(
            f"the ramp lasts {total_s:,.0f} s, above {MAX_DURATION_S:,.0f} s: fewer or shorter steps"
        )
    result = ramp(
        scenario,
        from_users,
        to_users,
        args.steps,
        step_s,
        seed=args.seed,
        progress=progress_bar(not args.json),
        observed=observed,
        observed_from=source,
        schedule=schedule,
    )
    print(json_text(result.to_json()) if args.json else result.to_text())
    return EXIT_OK
