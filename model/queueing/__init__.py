"""Queueing: a scenario's nodes as stations, the offered load on each pool, and the two solvers.

`topology.py` (stations), `offered_load.py` (load per server pool, which decides `saturated`),
`results.py` (what both solvers return, the SLO check), `statistics.py`, `distributions.py`;
`sim/` the discrete-event simulator (SimPy), `analytic/` the queueing-theory solver; `evaluate.py`
picks one and prices the result (the one entry point the CLI, app and planner call).
May import model.scenario and model.pricing; never planning, fit, connectors or the app.
"""
