"""Deep links (`/whatif?...`) that open without a 404, and the app's icon served from this server.

Streamlit's front end does not know where the server lives: for a page URL such as `/whatif`
it guesses the server may be mounted at `/whatif/` and probes `/whatif/_stcore/health` and
`/whatif/_stcore/host-config` (two 404s in every deep link's log) before falling back to `/`.
The page's HTML can tell it instead: `window.__streamlit.BACKEND_BASE_URL`, read by the front
end before it connects. These routes serve each page path with that one line added to
Streamlit's own index.html, so a deep link connects to the right place at the first try.

A deep link must also run this app's navigation. Streamlit takes a folder named `pages/` beside
the main script for a multipage app of its first kind (every file a page, run on its own) until
a session's script calls `st.navigation`, which turns that off for the whole server. So the
first visit after a start that went straight to `/cost` or `/whatif?...` ran pages/cost.py by
itself: no `st.set_page_config` (the narrow layout), none of app.py's navigation, and every
deep link after it the same, until someone opened `/`. `navigation_only` turns it off when the
server starts, as `st.navigation` would have.

The page icon is a file of this repository (assets/headroom-icon.png), not a Material icon,
which Streamlit fetches from fonts.gstatic.com: the app must work offline and tell no one.
"""

from __future__ import annotations

import json
from pathlib import Path

ICON = Path(__file__).resolve().parents[1] / "assets" / "headroom-icon.png"


def index_html(base_path: str = "") -> str:
    """Streamlit's index.html with the server's base URL set before its scripts run."""
    import streamlit

    html = (Path(streamlit.__file__).parent / "static" / "index.html").read_text(encoding="utf-8")
    base = "/" + base_path.strip("/") + "/" if base_path.strip("/") else "/"
    script = (
        "<script>window.__streamlit = Object.assign({}, window.__streamlit, "
        f"{{BACKEND_BASE_URL: window.location.origin + {json.dumps(base)}}});</script>"
    )
    return html.replace("<head>", "<head>\n    " + script, 1)


def navigation_only() -> None:
    """Tell Streamlit, before any session, that the pages come from `st.navigation` alone.

    The switch is the class attribute `st.navigation` itself sets (streamlit.commands.navigation);
    tests/app/test_browser_deep_links.py opens every page route first thing after a start and
    fails if a Streamlit upgrade moves it."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


def page_routes(pages: list[str], start: str | None = None) -> list:
    """A route per page path (`/whatif`, `/whatif/`) serving `index_html`; none under a base URL path.

    The landing page `start` lives at `/` (st.navigation's default page has no path of its own):
    `/overview?...` redirects there with its query, rather than opening the landing page under a
    "Page not found" dialog. Under `server.baseUrlPath` Streamlit mounts its routes below the
    prefix; the front end's guess is then needed to find it, so nothing is changed."""
    from starlette.responses import HTMLResponse, RedirectResponse
    from starlette.routing import Route
    from streamlit import config

    base_path = str(config.get_option("server.baseUrlPath") or "").strip("/")
    if base_path:
        return []

    async def serve(request):
        return HTMLResponse(index_html(), headers={"Cache-Control": "no-cache"})

    async def home(request):
        query = request.url.query
        return RedirectResponse("/" + (f"?{query}" if query else ""), status_code=307)

    return [
        Route(path, home if name == start else serve, methods=["GET"])
        for name in pages
        for path in (f"/{name}", f"/{name}/")
    ]
