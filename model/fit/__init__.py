"""The fit: a scenario from observed metrics. `file.py` is the fit file's schema (built from the
registry of sources), `fetch.py` reads its series through connectors/ (the fit's only I/O), and
`pipeline.fit_scenario` turns a fetched frame into a scenario, validated and backtested.

May import connectors/, model.queueing, model.pricing and model.scenario; never planning or the app.
"""
