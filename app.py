"""Headroom in the browser: `streamlit run app.py` opens on the built-in demo.

This file only builds the navigation and the shared sidebar (which scenario, which data
source, the what-if changes in effect); each page in pages/ is a thin script over model/
and connectors/. Session keys are documented in app_support/state.py.
"""

from __future__ import annotations

import streamlit as st

from app_support import state
from app_support.sidebar import sidebar

st.set_page_config(page_title="Headroom", page_icon=":material/speed:", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/hub:", default=True),
    st.Page("pages/observe.py", title="Observe", icon=":material/monitoring:"),
    st.Page("pages/calibrate.py", title="Calibrate", icon=":material/tune:"),
    st.Page("pages/whatif.py", title="What-if", icon=":material/science:"),
    st.Page("pages/cost.py", title="Cost", icon=":material/payments:"),
    st.Page("pages/rightsize.py", title="Right-size", icon=":material/straighten:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
]

state.init()
page = st.navigation(PAGES)
sidebar()
state.sync_url()
page.run()
