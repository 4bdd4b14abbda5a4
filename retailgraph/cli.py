"""The ``retailgraph`` command."""

from __future__ import annotations

from pathlib import Path

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


@app.command()
def explain(
    supergraph: str = typer.Option(..., help="Supergraph SDL file."),
    query: str = typer.Argument(..., help="A query file, or the query itself."),
    operation: str | None = typer.Option(None, help="Operation name."),
    json: bool = typer.Option(False, "--json", help="Print Apollo's JSON plan."),
) -> None:
    """Print the query plan the gateway would run for an operation."""
    from gateway.planner.errors import PlanningError
    from gateway.planner.explain import ExplainError, read_query
    from gateway.planner.explain import explain as explain_plan
    from gateway.supergraph import SupergraphError

    try:
        sdl = Path(supergraph).read_text()
        text = explain_plan(sdl, read_query(query), operation, as_json=json)
    except (ExplainError, PlanningError, SupergraphError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(text)


if __name__ == "__main__":
    app()
