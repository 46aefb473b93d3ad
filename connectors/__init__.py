"""Metric sources behind one interface: demo (the default), csv, cloudwatch and gcp.

`registry.py` is the one list of sources (name, label, help, metric spec from `specs.py`, opener).
May import model.scenario (the demo source generates data from a scenario) and nothing else of model/:
connectors never import the fit. Nothing here imports Streamlit; the app wraps these at its page edge.
"""

from connectors.base import FetchStats, MetricInfo, Query, Source
from connectors.errors import ConnectorError

__all__ = ["ConnectorError", "FetchStats", "MetricInfo", "Query", "Source"]
