"""Headroom's command line (contract section 2): simulate, recommend, forecast, fit, sweep, diff.

Exit codes: 0 success; 2 invalid input (one message on stderr); 3 with --check-slo when
the SLO is not met. With --json, stdout carries only the JSON document.

Start-up: each command imports its modules inside its own function (`cmd_*`). This dispatch
is the deliberate place for function-local imports; elsewhere only a heavy library that one
function alone needs is imported there, with a comment (pandas in model/scenario/trace.py's trace
reader and model/planning/sweep.py's frame). So `--help` loads nothing and `simulate` never loads the
fit, pandas or scipy; tests/test_cli_imports.py guards this, benchmarks/cli_startup.py times it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Callable

EXIT_OK, EXIT_INVALID, EXIT_SLO = 0, 2, 3


class InputError(Exception):
    """Anything the user can fix; printed as one line, exit 2."""


def _common(parser: argparse.ArgumentParser, file_arg: bool = True) -> None:
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
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout, nothing else")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable runs")


def _strict_prices(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strict-prices",
        action="store_true",
        help="an instance type the price catalog does not list is invalid input (exit 2), "
        "instead of an estimated or unknown cost",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python cli.py",
        description="Headroom: capacity and cost planning "
        "for service graphs (queueing simulation and theory).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("simulate", help="run the scenario and print the results")
    _common(p)
    p.add_argument(
        "--method",
        choices=["sim", "analytic"],
        default="sim",
        help="simulation (default) or queueing formulas",
    )
    p.add_argument(
        "--requests", type=int, default=None, metavar="N", help="completed requests to measure after warm-up"
    )
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="a timed run instead of --requests: the load offered for that long, as a load test sees it",
    )
    p.add_argument("--check-slo", action="store_true", help="exit 3 when the SLO is not met")
    _strict_prices(p)

    p = sub.add_parser("recommend", help="the cheapest configuration that meets the SLO")
    _common(p)
    p.add_argument("--months", type=int, default=0, metavar="N", help="plan for the load N months ahead")
    p.add_argument("--check-slo", action="store_true", help="exit 3 when no configuration meets the SLO")
    _strict_prices(p)

    p = sub.add_parser("forecast", help="month by month: load, cost, latency, SLO met; and the runway")
    _common(p)
    p.add_argument(
        "--months",
        type=int,
        default=None,
        metavar="N",
        help="months ahead (default: workload.horizon_months)",
    )
    p.add_argument("--method", choices=["sim", "analytic"], default="analytic")
    p.add_argument(
        "--growth-sd",
        type=float,
        default=None,
        metavar="PCT",
        help="uncertainty of the monthly growth (points); adds a 90%% band of load, cost and p99",
    )
    p.add_argument(
        "--check-slo",
        action="store_true",
        help="exit 3 when a month in the horizon misses the SLO (or, with --budget, exceeds the budget)",
    )
    p.add_argument(
        "--budget", type=float, default=None, metavar="USD", help="a monthly budget: the first month over it"
    )
    p.add_argument(
        "--start",
        default=None,
        metavar="YYYY-MM",
        help="the calendar month of month 0 (default workload.start_month, else this month)",
    )
    p.add_argument(
        "--growth",
        type=float,
        default=None,
        metavar="PCT",
        help="monthly growth instead of the file's (fitted) one",
    )
    _strict_prices(p)

    p = sub.add_parser(
        "whatif", help="a failure: lose a zone, a read replica, a cache flush, a database failover"
    )
    _common(p)
    p.add_argument("--failure", required=True, choices=["zone", "read-replica", "cache-flush", "failover"])
    p.add_argument("--node", help="the database or cache it happens to (default: every one / the first)")
    p.add_argument("--share", type=float, default=1 / 3, help="zone: the share of every node's units lost")
    p.add_argument(
        "--pause-s", type=float, default=30.0, help="failover: seconds the primary stops answering"
    )
    p.add_argument("--method", choices=["sim", "analytic"], default="sim")
    p.add_argument(
        "--check-slo", action="store_true", help="exit 3 when the SLO does not hold through the failure"
    )

    from connectors.registry import source_names  # the one list of sources

    p = sub.add_parser("fit", help="build a scenario from observed metrics")
    p.add_argument("--config", metavar="FIT.yaml", help="the fit file (contract section 3)")
    p.add_argument(
        "--source",
        choices=source_names(),
        help="override the fit file's source (with no --config: demo uses the built-in demo fit)",
    )
    p.add_argument("--out", metavar="SCENARIO.yaml", help="write the fitted scenario here")
    p.add_argument(
        "--dump", metavar="FILE.csv", help="write the fetched series (timestamp, series, value, unit)"
    )
    p.add_argument(
        "--endpoint",
        metavar="HOST:PORT",
        help="gcp: another Cloud Monitoring endpoint (a local test server); prometheus: the server's URL",
    )
    p.add_argument("--refresh", action="store_true", help="ignore the local cache of pulled series")
    p.add_argument("--json", action="store_true", help="machine-readable report on stdout")

    p = sub.add_parser("sweep", help="run many variants, locally or on a dask cluster")
    _common(p)
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="PATH=V1,V2,...",
        required=True,
        help="a key and its values; repeat for a full grid",
    )
    p.add_argument("--method", choices=["sim", "analytic"], default="sim")
    p.add_argument("--requests", type=int, default=None, metavar="N")
    p.add_argument("--replications", type=int, default=1, metavar="N")
    p.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="an existing dask cluster (default: a local one)"
    )
    p.add_argument("--workers", type=int, default=2, help="workers of the local cluster")
    p.add_argument("--local", action="store_true", help="run in this process, no cluster")
    p.add_argument("--out", metavar="FILE.csv|FILE.parquet", help="write every run's results")

    p = sub.add_parser(
        "diff", help="what a change does: latency, errors, runway and cost of BASE against HEAD"
    )
    p.add_argument("base", metavar="BASE", help="scenario file, or git:REF:PATH (read with git show)")
    p.add_argument("head", metavar="HEAD", help="scenario file, or git:REF:PATH")
    _common(p, file_arg=False)
    p.add_argument(
        "--method",
        choices=["sim", "analytic"],
        default="analytic",
        help="queueing formulas (default, instant) or simulation (with --seed, to confirm)",
    )
    p.add_argument("--months", type=int, default=0, metavar="N", help="compare at the load N months ahead")
    p.add_argument("--requests", type=int, default=None, metavar="N", help="sim: completed requests per side")
    p.add_argument("--markdown", action="store_true", help="a pull-request comment: verdict, table, details")
    p.add_argument("--check-slo", action="store_true", help="exit 3 when HEAD misses its SLO")
    p.add_argument(
        "--max-p99-increase",
        type=float,
        default=None,
        metavar="PCT",
        help="exit 3 when HEAD's p99 is more than PCT%% above BASE's",
    )
    p.add_argument(
        "--max-cost-increase",
        type=float,
        default=None,
        metavar="USD",
        help="exit 3 when HEAD's monthly bill is more than USD above BASE's",
    )
    _strict_prices(p)
    return parser


def _load(args):
    """The scenario file with --set and --rate applied, or a ScenarioError (exit 2)."""
    from model.scenario.reader import load_scenario

    if args.rate is not None and not (args.rate > 0 and math.isfinite(args.rate)):
        raise InputError(f"--rate must be a positive number of requests per second (got {args.rate:g})")
    _check_seed(args.seed)
    return load_scenario(
        args.file, args.overrides, rate_rps=args.rate, strict_prices=getattr(args, "strict_prices", False)
    )


# ---------------------------------------------------------------- bounds on options (issue 17)


def printable(text: str) -> str:
    """Text from the command line, safe to repeat on a terminal (control characters as \\xNN)."""
    from model.scenario.limits import printable as escape

    return escape(text)


def _check_seed(seed: int | None) -> None:
    if seed is not None and not 0 <= seed < 2**63:
        raise InputError(f"--seed must be a whole number from 0 to 2^63 - 1 (got {seed})")


def _check_sweep(args) -> dict:
    """Every sweep option checked before the scenario is run once: a sweep can take hours, and
    finding the --out folder missing at the end loses them."""
    from model.scenario.limits import check, limit
    from model.scenario.reader import parse_grid

    if not 1 <= args.workers <= limit("WORKERS"):
        raise InputError(
            f"--workers must be from 1 to {limit('WORKERS')} (got {args.workers}; "
            "raise the limit with the environment variable HEADROOM_MAX_WORKERS)"
        )
    if args.replications < 1:
        raise InputError("--replications must be at least 1")
    check("REPLICATIONS", args.replications, "--replications")
    grid: dict = {}
    for spec in args.grid:
        path, values = parse_grid(spec)
        if path in grid:
            raise InputError(f"--grid {printable(path)} is given twice; list all its values in one --grid")
        grid[path] = values
    points = math.prod(len(v) for v in grid.values())
    check("GRID_POINTS", points, "the grid's points")
    check("RUNS", points * args.replications, "the sweep's runs (grid points x replications)")
    if args.out:
        out = Path(args.out)
        if not out.parent.is_dir():
            raise InputError(
                f"--out: the folder {printable(str(out.parent))} does not exist; create it first"
            )
    if args.scheduler and not args.local:
        _check_scheduler(args.scheduler)
    return grid


def _check_scheduler(address: str, timeout_s: float = 3.0) -> None:
    """A dask scheduler that does not answer fails in seconds, not after dask's 30 s."""
    import re
    import socket

    match = re.fullmatch(r"(?:tcp://)?\[?([\w.\-:]+?)\]?:(\d{1,5})", address.strip())
    if not match:
        raise InputError(f"--scheduler must look like tcp://HOST:PORT (got {printable(address[:80])})")
    try:
        socket.create_connection((match.group(1), int(match.group(2))), timeout=timeout_s).close()
    except OSError as exc:
        raise InputError(
            f"--scheduler {printable(address[:80])} does not answer "
            f"({exc.strerror or exc.__class__.__name__}); is the dask scheduler running?"
        ) from None


MAX_MONTHS = 120  # the same bound as workload.horizon_months


def _requests(value: int | None, default: int) -> int:
    from model.scenario.limits import check

    requests = default if value is None else value
    if requests < 100:
        raise InputError(f"--requests must be at least 100 (got {requests})")
    check("REQUESTS", requests, "--requests")
    return requests


def _months(value: int) -> int:
    if not 0 <= value <= MAX_MONTHS:
        raise InputError(f"--months must be from 0 to {MAX_MONTHS} (got {value})")
    return value


def _progress(enabled: bool) -> Callable[[float], None] | None:
    if not enabled or not sys.stderr.isatty():
        return None

    def show(fraction: float) -> None:
        bar = "#" * int(30 * fraction)
        sys.stderr.write(f"\r[{bar:<30}] {100 * fraction:3.0f}%")
        if fraction >= 1:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def cmd_simulate(args) -> int:
    from model.planning.report import json_text, results_text
    from model.queueing.evaluate import evaluate
    from model.queueing.run_size import SIM_REQUESTS

    scenario = _load(args)
    requests = _requests(args.requests, SIM_REQUESTS)
    duration_s = _duration(args)
    results = evaluate(
        scenario,
        args.method,
        seed=args.seed,
        requests=requests,
        progress=_progress(not args.json),
        duration_s=duration_s,
    )
    if args.json:
        print(json_text(results.to_json()))
    else:
        print(results_text(results, {n: node.kind for n, node in scenario.nodes.items()}, args.seed))
    return EXIT_SLO if args.check_slo and not results.slo.met else EXIT_OK


def _duration(args) -> float | None:
    """--duration SECONDS: a timed simulation; it replaces --requests and has no analytic form."""
    from model.queueing.sim.load_test import MAX_DURATION_S

    if args.duration is None:
        return None
    if args.requests is not None:
        raise InputError("give --duration SECONDS or --requests N, not both")
    if args.method != "sim":
        raise InputError("--duration runs the simulator (a timed run): drop --method analytic")
    if not (math.isfinite(args.duration) and 0 < args.duration <= MAX_DURATION_S):
        raise InputError(
            f"--duration must be above 0 and at most {MAX_DURATION_S:,.0f} seconds (got {args.duration:g})"
        )
    return args.duration


def cmd_recommend(args) -> int:
    from model.planning.recommend import recommend
    from model.planning.report import json_text

    scenario = _load(args)
    rec = recommend(scenario, months=_months(args.months), seed=args.seed, progress=_progress(not args.json))
    print(json_text(rec.to_json()) if args.json else rec.to_text())
    return EXIT_SLO if args.check_slo and not rec.slo.met else EXIT_OK


def cmd_forecast(args) -> int:
    from model.planning.forecast import forecast
    from model.planning.report import json_text

    scenario = _load(args)
    months = _months(args.months if args.months is not None else scenario.workload.horizon_months)
    if args.growth_sd is not None and not 0 <= args.growth_sd <= 100:
        raise InputError(f"--growth-sd must be from 0 to 100 percentage points (got {args.growth_sd:g})")
    if args.budget is not None and not (math.isfinite(args.budget) and args.budget >= 0):
        raise InputError(f"--budget must be a sum of 0 or more a month (got {args.budget:g})")
    if args.growth is not None and not (math.isfinite(args.growth) and -100 < args.growth <= 1000):
        raise InputError(
            f"--growth must be above -100 and at most 1000 percent a month (got {args.growth:g})"
        )
    if args.start is not None:
        from model.planning.calendar_months import parse_month

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


def cmd_whatif(args) -> int:
    from model.planning import failures
    from model.planning.report import json_text

    scenario = _load(args)
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


def cmd_fit(args) -> int:
    from model.planning.report import json_text

    if not args.out and not args.dump and not args.json:
        raise InputError(
            "fit needs --out SCENARIO.yaml (the fitted scenario), --json (the report and the scenario on "
            "stdout) and/or --dump FILE.csv (the series)"
        )
    config = args.config
    if config is None:
        if args.source != "demo":
            raise InputError("fit needs --config FIT.yaml (or --source demo for the built-in demo)")
        config = str(Path(__file__).resolve().parent / "scenarios" / "fit-demo.yaml")
    report: dict = {}
    if args.dump:
        from model.fit.fetch import dump_fit_series

        summary = dump_fit_series(
            config, args.dump, refresh=args.refresh, endpoint=args.endpoint, source=args.source
        )
        report["dump"] = summary.to_json() if hasattr(summary, "to_json") else str(summary)
        if not args.json:
            print(f"Wrote the fetched series to {args.dump}: {summary}")
    if args.out:
        from model.fit.pipeline import fit_to_file

        result = fit_to_file(
            config, args.out, source=args.source, endpoint=args.endpoint, refresh=args.refresh
        )
        report["fit"] = result.to_json()
        if not args.json:
            print(result.to_text())
            print(f"Wrote the fitted scenario to {args.out}")
    elif args.json and not args.dump:
        from model.fit.pipeline import (
            fit_scenario,
        )  # --json alone: the report, with the scenario in it, nothing written

        report["fit"] = fit_scenario(
            config, source=args.source, endpoint=args.endpoint, refresh=args.refresh
        ).to_json()
    if args.json:
        print(json_text(report))
    return EXIT_OK


def cmd_sweep(args) -> int:
    from model.planning.sweep import run_sweep, sweep_text

    grid = _check_sweep(args)
    scenario = _load(args)
    if args.requests is not None:
        _requests(args.requests, 0)
    frame = run_sweep(
        scenario,
        grid,
        replications=args.replications,
        method=args.method,
        seed=args.seed,
        requests=args.requests,
        scheduler=args.scheduler,
        workers=args.workers,
        local=args.local,
        progress=_progress(not args.json),
    )
    if args.out:
        out = Path(args.out)
        frame.to_parquet(out) if out.suffix == ".parquet" else frame.to_csv(out, index=False)
    if args.json:
        from model.planning.report import json_text

        print(json_text(frame.to_dict(orient="records")))
    else:
        print(sweep_text(frame))
        if args.out:
            print(f"\nWrote {len(frame)} rows to {args.out}")
    return EXIT_OK


def cmd_diff(args) -> int:
    from model.planning.diff import diff
    from model.planning.diff_report import diff_markdown, diff_text
    from model.planning.forecast import FORECAST_REQUESTS
    from model.planning.report import json_text

    if args.json and args.markdown:
        raise InputError("choose one of --json and --markdown")
    for flag, value in (
        ("--max-p99-increase", args.max_p99_increase),
        ("--max-cost-increase", args.max_cost_increase),
    ):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise InputError(f"{flag} must be a number of 0 or more (got {value:g})")
    if args.rate is not None and not (args.rate > 0 and math.isfinite(args.rate)):
        raise InputError(f"--rate must be a positive number of requests per second (got {args.rate:g})")
    requests = _requests(args.requests, FORECAST_REQUESTS)
    result = diff(
        args.base,
        args.head,
        months=_months(args.months),
        method=args.method,
        seed=args.seed,
        overrides=args.overrides,
        rate_rps=args.rate,
        requests=requests,
        strict_prices=args.strict_prices,
    )
    failures = result.gate_failures(args.check_slo, args.max_p99_increase, args.max_cost_increase)
    if args.json:
        print(json_text({**result.to_json(), "check": {"passed": not failures, "failures": failures}}))
    else:
        print(diff_markdown(result) if args.markdown else diff_text(result))
    for failure in failures:
        print(f"check failed: {failure}", file=sys.stderr)
    return EXIT_SLO if failures else EXIT_OK


COMMANDS = {
    "simulate": cmd_simulate,
    "recommend": cmd_recommend,
    "forecast": cmd_forecast,
    "whatif": cmd_whatif,
    "fit": cmd_fit,
    "sweep": cmd_sweep,
    "diff": cmd_diff,
}


# Exception types that mean bad input, by the module that defines them. Only modules already
# imported are looked at: a module never imported cannot have raised its error, and importing
# the fit just to recognise FitError would cost every command a second of start-up.
USER_ERRORS = (
    ("model.scenario.reader", "ScenarioError"),
    ("model.pricing.catalog", "UnknownInstanceError"),
    ("model.scenario.trace", "TraceError"),
    ("connectors.errors", "ConnectorError"),
    ("model.fit.file", "FitFileError"),
    ("model.fit.series", "FitError"),
    ("model.scenario.limits", "LimitError"),
)


def _is_user_error(exc: Exception) -> bool:
    if isinstance(exc, InputError):
        return True
    for module, name in USER_ERRORS:
        kind = getattr(sys.modules.get(module), name, None)
        if isinstance(kind, type) and isinstance(exc, kind):
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): nothing is wrong, stop writing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        if _is_user_error(exc):
            from model.scenario.limits import clip

            print(f"error: {clip(exc, 600)}", file=sys.stderr)
            return EXIT_INVALID
        # a bug, not bad input: say so plainly, keep the trace for debugging
        if os.environ.get("HEADROOM_DEBUG"):
            raise
        from model.scenario.limits import clip

        print(
            f"internal error: {exc.__class__.__name__}: {clip(exc)}\n(set HEADROOM_DEBUG=1 for the traceback, "
            "and please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
