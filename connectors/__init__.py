"""Metric sources behind one interface: demo (the default), csv, cloudwatch and gcp.

Nothing here imports Streamlit; the app wraps these functions at its page edge.
"""

from connectors.base import FetchStats, MetricInfo, Query, Source
from connectors.errors import ConnectorError

__all__ = ["ConnectorError", "FetchStats", "MetricInfo", "Query", "Source"]
