"""Headroom in the browser: `streamlit run app.py` opens on the built-in demo.

This file only builds the navigation. Each page in pages/ is a thin script over model/ and
connectors/ that starts with `setup()` (streamlit_ui/sidebar.py): the session's state, the
shared sidebar (which scenario, the what-if changes in effect, the data source) and the URL.
The sidebar is drawn by the page rather than here so that every page script is complete on
its own, which is also how streamlit.testing's AppTest reruns a page after an interaction.
Session keys are documented in streamlit_ui/state.py.

The file is read three ways, told apart by `__name__`:

- `__main__`: Streamlit runs it as the script of a session (and AppTest does): `main()`.
- `app`: `streamlit run app.py` finds the `st.App` below and starts the server from it, which
  imports this file once at start. Its lifespan warms the server (streamlit_ui/lifecycle.py):
  the first visitor after a restart no longer waits for pandas, scipy and the models to load.
- `__mp_main__`: every worker process of the simulation pool (streamlit_ui/run_pool.py) re-runs
  the parent's main script, which Streamlit sets to this file. A worker must do nothing here:
  it used to run `main()`'s st.* calls with no session ("missing ScriptRunContext" in the
  server log, ten per worker) and carry a copy of Streamlit it never used.
"""

from __future__ import annotations

import os

PAGES = [
    ("overview", "Overview", ":material/hub:"),
    ("observe", "Observe", ":material/monitoring:"),
    ("calibrate", "Calibrate", ":material/tune:"),
    ("whatif", "What-if", ":material/science:"),
    ("peak", "Peak event", ":material/trending_up:"),
    ("cost", "Cost", ":material/payments:"),
    ("rightsize", "Right-size", ":material/straighten:"),
    ("compare", "Compare", ":material/compare_arrows:"),
]
# The landing page: Overview, unless a deployment for one audience picks another (HEADROOM_START_PAGE=cost).
START = os.environ.get("HEADROOM_START_PAGE", "overview")


def main() -> None:
    import streamlit as st

    from streamlit_ui import lifecycle

    lifecycle.wait()  # a visitor who came during the start-up warm-up: let it finish rather than import beside it
    from streamlit_ui.deep_links import ICON

    # a file, not a Material icon: those are fetched from fonts.gstatic.com (the app works offline and leaks nothing)
    st.set_page_config(page_title="Headroom", page_icon=str(ICON), layout="wide")
    page = st.navigation(
        [
            st.Page(f"pages/{name}.py", title=title, icon=icon, default=name == START)
            for name, title, icon in PAGES
        ]
    )
    page.run()


if __name__ == "__main__":
    main()
elif __name__ != "__mp_main__":
    import streamlit as st

    from streamlit_ui.lifecycle import lifespan
    from streamlit_ui.deep_links import navigation_only, page_routes

    navigation_only()  # before the first session: a deep link must run main(), not a page file alone

    # this file, wherever the server was started from; the page routes spare deep links two 404s each
    app = st.App(
        os.path.abspath(__file__),
        lifespan=lifespan,
        routes=page_routes([name for name, _, _ in PAGES], START),
    )
