"""`fit`: build a scenario from observed metrics (contract section 3's fit file)."""

from __future__ import annotations

import argparse
from pathlib import Path

from commands.errors import EXIT_OK, InputError
from connectors.registry import source_names
from model.planning.report import json_text

DEMO_FIT = Path(__file__).resolve().parents[1] / "scenarios" / "fit-demo.yaml"


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FIT.yaml", help="the fit file (contract section 3)")
    parser.add_argument(
        "--source",
        choices=source_names(),  # the one list of sources
        help="override the fit file's source (with no --config: demo uses the built-in demo fit)",
    )
    parser.add_argument("--out", metavar="SCENARIO.yaml", help="write the fitted scenario here")
    parser.add_argument(
        "--dump", metavar="FILE.csv", help="write the fetched series (timestamp, series, value, unit)"
    )
    parser.add_argument(
        "--endpoint",
        metavar="HOST:PORT",
        help="gcp: another Cloud Monitoring endpoint (a local test server); prometheus: the server's URL",
    )
    parser.add_argument("--refresh", action="store_true", help="ignore the local cache of pulled series")
    parser.add_argument("--json", action="store_true", help="machine-readable report on stdout")


def run(args) -> int:
    if not args.out and not args.dump and not args.json:
        raise InputError(
            "fit needs --out SCENARIO.yaml (the fitted scenario), --json (the report and the scenario on "
            "stdout) and/or --dump FILE.csv (the series)"
        )
    config = args.config
    if config is None:
        if args.source != "demo":
            raise InputError("fit needs --config FIT.yaml (or --source demo for the built-in demo)")
        config = str(DEMO_FIT)
    report: dict = {}
    # The fetch and the fit are imported as the options ask for them: --dump alone never loads the fit.
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
    elif args.json and not args.dump:  # --json alone: the report, with the scenario in it, nothing written
        from model.fit.pipeline import fit_scenario

        report["fit"] = fit_scenario(
            config, source=args.source, endpoint=args.endpoint, refresh=args.refresh
        ).to_json()
    if args.json:
        print(json_text(report))
    return EXIT_OK
