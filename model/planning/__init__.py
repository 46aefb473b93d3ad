"""Planning: the questions people ask of a scenario. Forecast (and the runway), recommend (and its
search space), autoscale, failure what-ifs, sweeps, spend by node and commitment, capacity curves,
and the report text the CLI prints.

May import model.queueing, model.pricing and model.scenario; never the fit, connectors or the app.
"""
