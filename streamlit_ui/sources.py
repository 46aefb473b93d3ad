"""Cached wrappers around the connectors (discovery and fetching), shared by Observe and Calibrate."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from connectors.registry import SourceSettings, open_source
from connectors.specs import DemoOptions
from model.fit import observed as observe


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def discover(
    source: str,
    region: str = "",
    project: str = "",
    endpoint: str = "",
    folder: str = "",
    demo_path: str = "",
    files: tuple = (),
):
    """The metrics a source lists (MetricInfo records); raises ConnectorError with a hint.

    `files` (name, digest) pairs of the uploaded CSVs are only a cache key: a session keeps
    one folder, so without them a second file (or new rows) would not be discovered."""
    settings = SourceSettings(
        region=region or None,
        project=project or None,
        endpoint=endpoint or None,
        folder=Path(folder) if folder else None,
        options=DemoOptions(scenario=demo_path or None),
    )
    return open_source(source, settings).discover()


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def fetch(fit_yaml: str, folder: str = "", endpoint: str = "", files: tuple = ()):
    """(tidy frame, one-line report, warnings) for every series a fit file names (`files`: as for discover)."""
    from model.fit.fetch import fetch_fit_series
    from model.fit.file import fit_file_from_text

    fit = fit_file_from_text(fit_yaml, "fit.yaml")
    fit._base_dir = Path(folder) if folder else Path.cwd()
    frame, report = fetch_fit_series(fit, endpoint=endpoint or None)
    return frame, report.summary(), report.warnings


def demo_fit_yaml(scenario, demo_path: str) -> str:
    """The fit file Observe builds by default: the demo source, each metric on its suggested node.

    Relative paths in it resolve from the scenarios folder: fetch and fit it with that folder."""
    discovered = discover("demo", demo_path=demo_path)
    mapping = {}
    for node, key in observe.slots(scenario):
        k = observe.default_choice(node, key, discovered)
        if k is not None:
            mapping[(node, key)] = discovered[k].metric
    # named relative to the scenarios folder (the fit file's folder), as scenarios/fit-demo.yaml names checkout.yaml
    name = Path(demo_path).name if demo_path else None
    return observe.to_yaml(observe.fit_file(scenario, "demo", mapping, demo_scenario=name))
