"""A phone's width (390 px): the few style rules that keep the pages usable there.

Streamlit stacks columns below 640 px. On What-if that put the headline numbers two screens
above the knobs, so a slider moved numbers nobody could see: the numbers block sticks to
the top, its metrics two to a row in a smaller type. The service graph keeps a readable
size and scrolls sideways rather than shrinking its text to a few pixels.
"""

from __future__ import annotations

import streamlit as st

NUMBERS_KEY = "headline-numbers"  # st.container(key=...) gives the block the class st-key-<key>
GRAPH_KEY = "service-graph"

CSS = f"""<style>
@media (max-width: 640px) {{
  /* on the block's wrapper (a sticky element only sticks inside its parent, which the wrapper fits exactly) */
  div:has(> .st-key-{NUMBERS_KEY}) {{ position: sticky; top: 0; z-index: 50; background: var(--background-color, #fff);
                                     padding: 4px 0; box-shadow: 0 6px 8px -8px rgba(0,0,0,.35); }}
  .st-key-{NUMBERS_KEY} [data-testid="stHorizontalBlock"] {{ flex-wrap: wrap; gap: 4px; }}
  .st-key-{NUMBERS_KEY} [data-testid="stColumn"] {{ min-width: calc(50% - 4px) !important; flex: 1 1 calc(50% - 4px) !important; }}
  .st-key-{NUMBERS_KEY} [data-testid="stMetric"] {{ padding: 4px 8px; }}
  .st-key-{NUMBERS_KEY} [data-testid="stMetricValue"] {{ font-size: 1.15rem; }}
  .st-key-{NUMBERS_KEY} [data-testid="stMetricDelta"] {{ font-size: 0.7rem; }}
  .st-key-{GRAPH_KEY} {{ overflow-x: auto; }}
  .st-key-{GRAPH_KEY} [data-testid="stGraphVizChart"] svg {{ min-width: 520px; }}
}}
</style>"""


def style() -> None:
    """Add the rules to the page (an invisible element)."""
    st.html(CSS)
