"""Deep links (`/whatif?...`) that open without a 404, and the app's icon served from this server.

Streamlit's front end does not know where the server lives: for a page URL such as `/whatif`
it guesses the server may be mounted at `/whatif/` and probes `/whatif/_stcore/health` and
`/whatif/_stcore/host-config` (two 404s in every deep link's log) before falling back to `/`.
The page's HTML can tell it instead: `window.__streamlit.BACKEND_BASE_URL`, read by the front
end before it connects. These routes serve each page path with that one line added to
Streamlit's own index.html, so a deep link connects to the right place at the first try.

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


def page_routes(pages: list[str]) -> list:
    """A route per page path (`/whatif`, `/whatif/`) serving `index_html`; none under a base URL path.

    Under `server.baseUrlPath` Streamlit mounts its routes below the prefix; the front end's
    guess is then needed to find it, so nothing is changed."""
    from starlette.responses import HTMLResponse
    from starlette.routing import Route
    from streamlit import config

    base_path = str(config.get_option("server.baseUrlPath") or "").strip("/")
    if base_path:
        return []

    async def serve(request):
        return HTMLResponse(index_html(), headers={"Cache-Control": "no-cache"})

    return [Route(path, serve, methods=["GET"]) for name in pages for path in (f"/{name}", f"/{name}/")]
