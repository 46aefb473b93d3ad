"""The simulator: `engine.py` (the discrete-event core on SimPy), `simulation.py` (a scenario compiled
into pools and flows, steady state) and `timeline.py` (a span of time with a changing load and events);
`client.py` (the client that retries), `load_test.py` (timed runs, bursts) and `series.py` (load through time).

May import model.queueing's base modules, model.scenario and model.pricing.
"""
