"""Options that several commands share: the scenario file and its overrides, strict prices."""

from __future__ import annotations

import argparse


def add_scenario_options(parser: argparse.ArgumentParser, file_arg: bool = True) -> None:
    if file_arg:
        parser.add_argument("file", help="scenario YAML file")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a key, e.g. --set nodes.web.replicas=6 (repeatable)",
    )
    parser.add_argument("--rate", type=float, metavar="RPS", help="override workload.rate_rps")
    parser.add_argument(
        "--users", type=int, metavar="N", help="override workload.users: a closed workload of N users"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout, nothing else")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable runs")


def add_strict_prices(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strict-prices",
        action="store_true",
        help="an instance type the price catalog does not list is invalid input (exit 2), "
        "instead of an estimated or unknown cost",
    )
