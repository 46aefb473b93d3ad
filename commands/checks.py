"""Option values checked before any work starts (issue 17: bounds on options), and the scenario
they name loaded: every problem is an InputError or a ScenarioError, exit 2."""

from __future__ import annotations

import math

from commands.errors import InputError
from model.scenario.limits import check
from model.scenario.reader import load_scenario
from model.scenario.schema import Scenario

MAX_MONTHS = 120  # the same bound as workload.horizon_months


def scenario_of(args) -> Scenario:
    """The scenario file with --set and --rate applied, or a ScenarioError (exit 2)."""
    check_rate(args.rate)
    check_seed(args.seed)
    check_users(args)
    return load_scenario(
        args.file,
        args.overrides,
        rate_rps=args.rate,
        strict_prices=getattr(args, "strict_prices", False),
        users=args.users,
    )


def check_rate(rate_rps: float | None) -> None:
    if rate_rps is not None and not (rate_rps > 0 and math.isfinite(rate_rps)):
        raise InputError(f"--rate must be a positive number of requests per second (got {rate_rps:g})")


def check_users(args) -> None:
    if args.users is not None and args.users < 1:
        raise InputError(f"--users must be a whole number of users, 1 or more (got {args.users})")
    if args.users is not None and args.rate is not None:
        raise InputError("give --rate (an open workload) or --users (a closed one), not both")


def check_seed(seed: int | None) -> None:
    if seed is not None and not 0 <= seed < 2**63:
        raise InputError(f"--seed must be a whole number from 0 to 2^63 - 1 (got {seed})")


def requests_option(value: int | None, default: int) -> int:
    """--requests N, or the command's default: at least 100, at most the configured limit."""
    requests = default if value is None else value
    if requests < 100:
        raise InputError(f"--requests must be at least 100 (got {requests})")
    check("REQUESTS", requests, "--requests")
    return requests


def months_option(value: int) -> int:
    if not 0 <= value <= MAX_MONTHS:
        raise InputError(f"--months must be from 0 to {MAX_MONTHS} (got {value})")
    return value
