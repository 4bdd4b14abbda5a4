"""GraphiQL, for people who open the endpoint in a browser.

The page and its assets (``graphiql_assets/``, from the npm registry by
``scripts/vendor-graphiql.sh``) are served by the gateway itself: the page works on a
machine with no internet, and its Content-Security-Policy lets it load nothing from
anywhere else.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

ASSETS_PATH = "/graphiql-assets"
ASSETS_DIRECTORY = Path(__file__).parent / "graphiql_assets"
# Inline styles and the inline bootstrap script are the page's own; everything else,
# scripts, styles, fonts and the requests GraphiQL makes, comes from this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'"
)

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
  <link rel="stylesheet" href="{assets}/graphiql.min.css">
  <link rel="stylesheet" href="{assets}/plugin-explorer.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL&hellip;</div>
  <script src="{assets}/react.production.min.js"></script>
  <script src="{assets}/react-dom.production.min.js"></script>
  <script src="{assets}/graphiql.min.js"></script>
  <script src="{assets}/plugin-explorer.umd.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({{
      url: new URL({endpoint}, window.location.href).toString(),
    }});
    const explorer = GraphiQLPluginExplorer.explorerPlugin();
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{
        fetcher,
        plugins: [explorer],
        defaultEditorToolsVisibility: true,
        defaultQuery: {default_query},
        defaultHeaders: {default_headers},
      }}),
    );
  </script>
</body>
</html>
"""

_DEFAULT_QUERY = (
    "# Welcome to RetailGraph. Write a query, then press Ctrl+Enter.\n{\n  __typename\n}\n"
)


def graphiql_page(
    endpoint: str, headers: Mapping[str, str] | None = None, title: str = "RetailGraph"
) -> HTMLResponse:
    """The page; ``headers`` pre-fill GraphiQL's header editor (a demo client's key)."""
    default_headers = json.dumps(dict(headers), indent=2) if headers else ""
    return HTMLResponse(
        _PAGE.format(
            title=html.escape(title),
            assets=ASSETS_PATH,
            endpoint=_script_literal(endpoint),
            default_query=_script_literal(_DEFAULT_QUERY),
            default_headers=_script_literal(default_headers),
        ),
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
    )


def graphiql_assets() -> Mount:
    """The route that serves the page's scripts and styles."""
    return Mount(ASSETS_PATH, app=StaticFiles(directory=ASSETS_DIRECTORY), name="graphiql")


def _script_literal(value: str) -> str:
    """A JavaScript string literal that cannot end the script element it sits in."""
    return json.dumps(value).replace("<", "\\u003c")
