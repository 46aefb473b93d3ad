"""Headroom's command line (contract section 2): simulate, recommend, forecast, fit, sweep.

Exit codes: 0 success; 2 invalid input (one message on stderr); 3 with --check-slo when
the SLO is not met. With --json, stdout carries only the JSON document.
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
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                        help="override a key, e.g. --set nodes.web.replicas=6 (repeatable)")
    parser.add_argument("--rate", type=float, metavar="RPS", help="override workload.rate_rps")
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout, nothing else")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable runs")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python cli.py", description="Headroom: capacity and cost planning "
                                     "for service graphs (queueing simulation and theory).")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("simulate", help="run the scenario and print the results")
    _common(p)
    p.add_argument("--method", choices=["sim", "analytic"], default="sim", help="simulation (default) or queueing formulas")
    p.add_argument("--requests", type=int, default=None, metavar="N", help="completed requests to measure after warm-up")
    p.add_argument("--check-slo", action="store_true", help="exit 3 when the SLO is not met")

    p = sub.add_parser("recommend", help="the cheapest configuration that meets the SLO")
    _common(p)
    p.add_argument("--months", type=int, default=0, metavar="N", help="plan for the load N months ahead")
    p.add_argument("--check-slo", action="store_true", help="exit 3 when no configuration meets the SLO")

    p = sub.add_parser("forecast", help="month by month: load, cost, latency, SLO met; and the runway")
    _common(p)
    p.add_argument("--months", type=int, default=None, metavar="N", help="months ahead (default: workload.horizon_months)")
    p.add_argument("--method", choices=["sim", "analytic"], default="analytic")
    p.add_argument("--growth-sd", type=float, default=None, metavar="PCT",
                   help="uncertainty of the monthly growth (points); adds a 90%% band of load, cost and p99")
    p.add_argument("--check-slo", action="store_true", help="exit 3 when a month in the horizon misses the SLO")

    p = sub.add_parser("whatif", help="a failure: lose a zone, a read replica, a cache flush, a database failover")
    _common(p)
    p.add_argument("--failure", required=True, choices=["zone", "read-replica", "cache-flush", "failover"])
    p.add_argument("--node", help="the database or cache it happens to (default: every one / the first)")
    p.add_argument("--share", type=float, default=1 / 3, help="zone: the share of every node's units lost")
    p.add_argument("--pause-s", type=float, default=30.0, help="failover: seconds the primary stops answering")
    p.add_argument("--method", choices=["sim", "analytic"], default="sim")
    p.add_argument("--check-slo", action="store_true", help="exit 3 when the SLO does not hold through the failure")

    from connectors.registry import source_names  # the one list of sources

    p = sub.add_parser("fit", help="build a scenario from observed metrics")
    p.add_argument("--config", metavar="FIT.yaml", help="the fit file (contract section 3)")
    p.add_argument("--source", choices=source_names(), help="override the fit file's source "
                   "(with no --config: demo uses the built-in demo fit)")
    p.add_argument("--out", metavar="SCENARIO.yaml", help="write the fitted scenario here")
    p.add_argument("--dump", metavar="FILE.csv", help="write the fetched series (timestamp, series, value, unit)")
    p.add_argument("--endpoint", metavar="HOST:PORT", help="gcp: another Cloud Monitoring endpoint (a local test server)")
    p.add_argument("--refresh", action="store_true", help="ignore the local cache of pulled series")
    p.add_argument("--json", action="store_true", help="machine-readable report on stdout")

    p = sub.add_parser("sweep", help="run many variants, locally or on a dask cluster")
    _common(p)
    p.add_argument("--grid", action="append", default=[], metavar="PATH=V1,V2,...", required=True,
                   help="a key and its values; repeat for a full grid")
    p.add_argument("--method", choices=["sim", "analytic"], default="sim")
    p.add_argument("--requests", type=int, default=None, metavar="N")
    p.add_argument("--replications", type=int, default=1, metavar="N")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="an existing dask cluster (default: a local one)")
    p.add_argument("--workers", type=int, default=2, help="workers of the local cluster")
    p.add_argument("--local", action="store_true", help="run in this process, no cluster")
    p.add_argument("--out", metavar="FILE.csv|FILE.parquet", help="write every run's results")
    return parser


def _load(args):
    """The scenario file with --set and --rate applied, or a ScenarioError (exit 2)."""
    from model.scenario.reader import load_scenario

    if args.rate is not None and not (args.rate > 0 and math.isfinite(args.rate)):
        raise InputError(f"--rate must be a positive number of requests per second (got {args.rate:g})")
    return load_scenario(args.file, args.overrides, rate_rps=args.rate)


MAX_MONTHS = 120  # the same bound as workload.horizon_months


def _requests(value: int | None, default: int) -> int:
    requests = default if value is None else value
    if requests < 100:
        raise InputError(f"--requests must be at least 100 (got {requests})")
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
    results = evaluate(scenario, args.method, seed=args.seed, requests=requests, progress=_progress(not args.json))
    if args.json:
        print(json_text(results.to_json()))
    else:
        print(results_text(results, {n: node.kind for n, node in scenario.nodes.items()}, args.seed))
    return EXIT_SLO if args.check_slo and not results.slo.met else EXIT_OK


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
    if args.growth_sd is not None and args.growth_sd < 0:
        raise InputError("--growth-sd must be 0 or more percentage points")
    result = forecast(scenario, months=months, method=args.method, seed=args.seed, growth_sd_pct=args.growth_sd)
    print(json_text(result.to_json()) if args.json else result.to_text())
    return EXIT_SLO if args.check_slo and result.runway_months is not None else EXIT_OK


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

    if not args.out and not args.dump:
        raise InputError("fit needs --out SCENARIO.yaml (the fitted scenario) and/or --dump FILE.csv (the series)")
    config = args.config
    if config is None:
        if args.source != "demo":
            raise InputError("fit needs --config FIT.yaml (or --source demo for the built-in demo)")
        config = str(Path(__file__).resolve().parent / "scenarios" / "fit-demo.yaml")
    report: dict = {}
    if args.dump:
        from model.fit.fetch import dump_fit_series

        summary = dump_fit_series(config, args.dump, refresh=args.refresh, endpoint=args.endpoint,
                                  source=args.source)
        report["dump"] = summary.to_json() if hasattr(summary, "to_json") else str(summary)
        if not args.json:
            print(f"Wrote the fetched series to {args.dump}: {summary}")
    if args.out:
        from model.fit.pipeline import fit_to_file

        result = fit_to_file(config, args.out, source=args.source, endpoint=args.endpoint, refresh=args.refresh)
        report["fit"] = result.to_json()
        if not args.json:
            print(result.to_text())
            print(f"Wrote the fitted scenario to {args.out}")
    if args.json:
        print(json_text(report))
    return EXIT_OK


def cmd_sweep(args) -> int:
    from model.scenario.reader import parse_grid
    from model.planning.sweep import run_sweep, sweep_text

    scenario = _load(args)
    grid = dict(parse_grid(spec) for spec in args.grid)
    if args.replications < 1:
        raise InputError("--replications must be at least 1")
    if args.requests is not None:
        _requests(args.requests, 0)
    frame = run_sweep(scenario, grid, replications=args.replications, method=args.method, seed=args.seed,
                      requests=args.requests, scheduler=args.scheduler, workers=args.workers, local=args.local,
                      progress=_progress(not args.json))
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


COMMANDS = {"simulate": cmd_simulate, "recommend": cmd_recommend, "forecast": cmd_forecast,
            "whatif": cmd_whatif, "fit": cmd_fit, "sweep": cmd_sweep}


def _user_errors() -> tuple[type[Exception], ...]:
    """Exception types that mean bad input, from whichever parts are installed."""
    from model.scenario.reader import ScenarioError

    kinds: list[type[Exception]] = [InputError, ScenarioError]
    for module, name in (("model.pricing.catalog", "UnknownInstanceError"), ("model.scenario.trace", "TraceError"),
                         ("connectors.errors", "ConnectorError"), ("model.fit.file", "FitFileError"),
                         ("model.fit.pipeline", "FitError")):
        try:
            kinds.append(getattr(__import__(module, fromlist=[name]), name))
        except (ImportError, AttributeError):
            pass
    return tuple(kinds)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    errors = _user_errors()
    try:
        return COMMANDS[args.command](args)
    except errors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): nothing is wrong, stop writing
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug, not bad input: say so plainly, keep the trace for debugging
        if os.environ.get("HEADROOM_DEBUG"):
            raise
        print(f"internal error: {exc.__class__.__name__}: {exc}\n(set HEADROOM_DEBUG=1 for the traceback, "
              "and please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
