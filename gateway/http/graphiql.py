"""GraphiQL, for people who open the endpoint in a browser."""

from __future__ import annotations

import html
import json

from starlette.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@3.9.0/graphiql.min.css">
  <link rel="stylesheet" href="https://unpkg.com/@graphiql/plugin-explorer@3.2.6/dist/style.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL&hellip;</div>
  <script crossorigin src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"></script>
  <script crossorigin
    src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@3.9.0/graphiql.min.js"></script>
  <script crossorigin
    src="https://unpkg.com/@graphiql/plugin-explorer@3.2.6/dist/index.umd.js"></script>
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
      }}),
    );
  </script>
</body>
</html>
"""

_DEFAULT_QUERY = (
    "# Welcome to RetailGraph. Write a query, then press Ctrl+Enter.\n{\n  __typename\n}\n"
)


def graphiql_page(endpoint: str, title: str = "RetailGraph") -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(
            title=html.escape(title),
            endpoint=json.dumps(endpoint),
            default_query=json.dumps(_DEFAULT_QUERY),
        )
    )
