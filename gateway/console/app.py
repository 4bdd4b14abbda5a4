"""``/console``: the page, its assets and its one endpoint of its own, ``/console/kpis``.

A browser cannot send a header when it opens a page, so the page is a shell with no data:
it asks the operator for a credential, keeps it for the tab (sessionStorage) and sends it
with every request for data, to ``/graphql`` (HTTP and the WebSocket's
``connection_init``) and to ``/console/kpis``. Everything the page shows is refused
without the operator scope; the page itself shows nothing to anyone.

Its scripts and styles (``assets/``: our own, and uPlot from the npm registry by
``scripts/vendor-console.sh``) are served by the gateway, and its Content-Security-Policy
lets it load nothing from anywhere else, nor run a script the gateway did not serve.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.console.history import KpiHistory
from gateway.http.operator_only import operator_only
from gateway.security.clients import ClientDirectory

CONSOLE_PATH = "/console"
ASSETS_DIRECTORY = Path(__file__).parent / "assets"
# uPlot sizes its canvas through the style attribute; scripts are only the served files.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>RetailGraph console</title>
  <link rel="stylesheet" href="{assets}/vendor/uPlot.min.css">
  <link rel="stylesheet" href="{assets}/console.css">
</head>
<body data-graphql="{graphql}" data-kpis="{kpis}">
  <noscript>The console needs JavaScript.</noscript>
  <script src="{assets}/vendor/uPlot.iife.min.js"></script>
  <script src="{assets}/graphql-client.js"></script>
  <script src="{assets}/console.js"></script>
</body>
</html>
"""


class OperatorConsole:
    """The console's routes; ``kpis`` is read while the gateway runs (``start``)."""

    def __init__(self, kpis: KpiHistory, *, graphql_path: str = "/graphql") -> None:
        self.kpis = kpis
        self.graphql_path = graphql_path

    def routes(self, clients: ClientDirectory) -> list[BaseRoute]:
        return [
            Route(CONSOLE_PATH, self._page, methods=["GET"]),
            Route(f"{CONSOLE_PATH}/kpis", operator_only(self._kpis, clients), methods=["GET"]),
            Mount(
                f"{CONSOLE_PATH}/assets",
                app=StaticFiles(directory=ASSETS_DIRECTORY),
                name="console",
            ),
        ]

    def start(self) -> None:
        self.kpis.start()

    async def aclose(self) -> None:
        await self.kpis.aclose()

    async def _page(self, request: Request) -> Response:
        page = _PAGE.format(
            assets=f"{CONSOLE_PATH}/assets",
            graphql=html.escape(self.graphql_path),
            kpis=f"{CONSOLE_PATH}/kpis",
        )
        return HTMLResponse(
            page,
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
            },
        )

    async def _kpis(self, request: Request) -> Response:
        return JSONResponse(self.kpis.to_json(), headers={"Cache-Control": "no-store"})
