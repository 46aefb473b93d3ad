"""The command line's commands, one module each (contract section 2).

Each module owns one command: `add_options(parser)` declares its options and `run(args)` does it,
returning the exit code. `cli.py` imports only the module of the command it was given, so a command
pays for its own imports and nothing else (`diff` never loads the metric sources `fit` lists).
This package sits at the top with `cli.py`: it reads arguments, calls `model/`, prints.
"""

# The commands, in the order `--help` lists them: name -> one line of help.
COMMANDS: dict[str, str] = {
    "simulate": "run the scenario and print the results",
    "recommend": "the cheapest configuration that meets the SLO",
    "forecast": "month by month: load, cost, latency, SLO met; and the runway",
    "users": "how many concurrent users meet the SLO, the throughput there, the bottleneck, the knee",
    "ramp": "a load-test ramp: users stepped up over time, simulated step by step",
    "whatif": "a failure: lose a zone, a read replica, a cache flush, a database failover",
    "fit": "build a scenario from observed metrics",
    "sweep": "run many variants, locally or on a dask cluster",
    "diff": "what a change does: latency, errors, runway and cost of BASE against HEAD",
    "peak": "a peak event (F x the planning load for D days) with the HPA acting",
}
