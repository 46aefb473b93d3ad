"""Headroom in the browser: `streamlit run app.py` opens on the built-in demo.

This file only builds the navigation. Each page in pages/ is a thin script over model/ and
connectors/ that starts with `setup()` (app_support/sidebar.py): the session's state, the
shared sidebar (which scenario, the what-if changes in effect, the data source) and the URL.
The sidebar is drawn by the page rather than here so that every page script is complete on
its own, which is also how streamlit.testing's AppTest reruns a page after an interaction.
Session keys are documented in app_support/state.py.
"""

from __future__ import annotations

import os

import streamlit as st

st.set_page_config(page_title="Headroom", page_icon=":material/speed:", layout="wide")

PAGES = [("overview", "Overview", ":material/hub:"), ("observe", "Observe", ":material/monitoring:"),
         ("calibrate", "Calibrate", ":material/tune:"), ("whatif", "What-if", ":material/science:"),
         ("cost", "Cost", ":material/payments:"), ("rightsize", "Right-size", ":material/straighten:"),
         ("compare", "Compare", ":material/compare_arrows:")]
# The landing page: Overview, unless a deployment for one audience picks another (HEADROOM_START_PAGE=cost).
START = os.environ.get("HEADROOM_START_PAGE", "overview")

page = st.navigation([st.Page(f"pages/{name}.py", title=title, icon=icon, default=name == START)
                      for name, title, icon in PAGES])
page.run()
