"""Metric sources behind one interface: demo (the default), csv, cloudwatch, gcp and prometheus.

`registry.py` is the one list of sources (name, label, help, metric spec from `specs.py`, opener).
May import model.scenario (the demo source generates data from a scenario) and nothing else of model/:
connectors never import the fit. Nothing here imports Streamlit; the app wraps these at its page edge.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ConnectorError", "FetchStats", "MetricInfo", "Query", "Source"]


def __getattr__(name: str) -> Any:
    """The interface's names, imported when first asked for: `connectors.base` brings pandas, and the
    command line reads `connectors.registry` (its --source choices) in every command."""
    if name == "ConnectorError":
        from connectors.errors import ConnectorError

        return ConnectorError
    if name in ("FetchStats", "MetricInfo", "Query", "Source"):
        import connectors.base

        return getattr(connectors.base, name)
    raise AttributeError(f"module 'connectors' has no attribute {name!r}")
