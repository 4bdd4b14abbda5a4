"""The ``retailgraph`` command."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="RetailGraph: one GraphQL graph for retail.")


@app.command()
def run(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(4000, help="Port to listen on."),
    demo: bool = typer.Option(True, help="Load the demo retailer on first start."),
) -> None:
    """Start the whole system in one process on the embedded default."""
    from retailgraph.embedded import serve

    serve(host=host, port=port, demo=demo)


if __name__ == "__main__":
    app()
