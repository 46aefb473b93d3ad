"""Headroom's model: plain typed Python shared by the CLI, the app and the tests (no Streamlit).

Layers, bottom to top; each imports only from layers below it (tests/test_architecture.py checks):
    scenario  the schema, its call graph, traces, where a YAML key sits
    pricing   the price catalog and what a scenario costs (refresh/: rebuild the catalog)
    scenario.reader  YAML in, a validated Scenario out (checks prices and the call graph)
    queueing  stations, offered load, results; sim/ the simulator, analytic/ the solver; evaluate
    (connectors/ sits here: metric sources, which may read a scenario and nothing above)
    planning  forecast, recommend, autoscale, failures, sweeps, spend, capacity curves, report text
    fit       a scenario from observed metrics (its only I/O is fetch.py, through connectors/)
"""
