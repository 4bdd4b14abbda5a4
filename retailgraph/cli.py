"""The ``retailgraph`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from retailgraph.erp_commands import register as register_erp_commands
from retailgraph.erp_commands import worker_app
from retailgraph.options import ConfigOption, settings_or_exit
from retailgraph.settings import SettingsError, load_settings
from retailgraph.sync.commands import register as register_sync_commands

app = typer.Typer(no_args_is_help=True, help="RetailGraph: one GraphQL graph for retail.")
register_erp_commands(app)
register_sync_commands(app, worker_app)


@app.command()
def run(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(4000, help="Port to listen on."),
    demo: bool = typer.Option(True, help="Load the demo retailer on first start."),
    config: ConfigOption = None,
) -> None:
    """Start the whole system in one process on the embedded default.

    GraphiQL, query plans and introspection are on; the limits and demand control come
    from the settings (docs/configuration.md).
    """
    from retailgraph.embedded import NEWCOMER, serve

    serve(host=host, port=port, demo=demo, settings=settings_or_exit(config, gateway=NEWCOMER))


db_app = typer.Typer(help="The domains' databases.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply every domain's migrations to its database, as a release step.

    Each domain's database is <DOMAIN>_DATABASE_URL, else DATABASE_URL, else its SQLite
    file in the embedded data folder. Running it again changes nothing.
    """
    import asyncio

    from retailgraph.wiring import upgrade_databases

    async def upgrade() -> None:
        async for name in upgrade_databases(settings_or_exit(config)):
            typer.echo(f"{name}: up to date")

    asyncio.run(upgrade())


clients_app = typer.Typer(help="The gateway's clients.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")


@clients_app.command("hash-key")
def clients_hash_key() -> None:
    """Read an API key on standard input; print what ``api_key_hashes`` holds for it.

    The key is read from standard input so that it stays out of the shell's history.
    """
    import sys

    from gateway.security.clients import key_hash

    key = sys.stdin.readline().strip()
    if not key:
        typer.echo("error: give the key on standard input", err=True)
        raise typer.Exit(1)
    typer.echo(key_hash(key))


@clients_app.command("list")
def clients_list(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The clients the settings configure: scopes, rights, budgets and manifests."""
    import json

    from rich.console import Console
    from rich.table import Table

    settings = settings_or_exit(config).gateway
    clients = dict(settings.clients)
    if settings.anonymous.enabled:
        clients = {"anonymous": settings.anonymous, **clients}
    rows: list[dict[str, Any]] = [
        {
            "name": name,
            "scopes": list(client.scopes),
            "keys": len(client.api_key_hashes),
            "arbitraryDocuments": client.arbitrary_documents,
            "introspection": settings.introspection
            if client.introspection is None
            else client.introspection,
            "maxCost": client.max_cost or settings.cost.max_cost,
            "rateLimit": None
            if client.rate_limit is None
            else f"{client.rate_limit.quota}/{client.rate_limit.window:g}s",
            "locations": list(client.locations),
            "manifests": list(client.manifests),
        }
        for name, client in clients.items()
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Clients", title_justify="left")
    for column in ("Client", "Scopes", "Keys", "Own documents", "Introspection", "Max cost",
                   "Rate limit", "Locations", "Manifests"):  # fmt: skip
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["name"]),
            ", ".join(row["scopes"]) or "-",
            str(row["keys"]),
            "yes" if row["arbitraryDocuments"] else "no",
            "yes" if row["introspection"] else "no",
            str(row["maxCost"]),
            row["rateLimit"] or "-",
            ", ".join(row["locations"]) or "-",
            ", ".join(row["manifests"]) or "-",
        )
    Console().print(table)


@clients_app.command("check")
def clients_check(
    manifest: Annotated[Path, typer.Argument(help="A manifest: Apollo's, or Code Generator's.")],
    client: Annotated[str, typer.Option(help="Whose manifest it is (named in problems).")] = "",
    supergraph: Annotated[
        Path | None, typer.Option(help="The supergraph to check against (default: ours).")
    ] = None,
) -> None:
    """Check every document of a manifest against the supergraph's API; exit 1 naming each
    operation that a schema change would break."""
    from gateway.security.documents import ManifestError, check_manifest, load_manifest
    from gateway.supergraph import SupergraphError, load_supergraph
    from retailgraph.supergraph import SCHEMA_PATH

    try:
        documents = load_manifest(manifest)
        schema = load_supergraph((supergraph or SCHEMA_PATH).read_text()).api_schema
    except (ManifestError, SupergraphError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    problems = check_manifest(documents, schema, owner=client or manifest.stem)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{len(documents)} operations, all valid against the supergraph")


@app.command()
def demo(config: ConfigOption = None) -> None:
    """Load the demo retailer into the configured databases (a no-op once loaded).

    With DATABASE_URL set this seeds PostgreSQL; otherwise the embedded SQLite files.
    Like ``run``, it creates the tables it loads into.
    """
    import asyncio

    from retailgraph.embedded import load_demo_with_progress
    from retailgraph.wiring import runtime

    settings = settings_or_exit(config)
    asyncio.run(load_demo_with_progress(runtime(settings, migrate_by_default=True)))


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


@app.command()
def gateway(
    supergraph: Annotated[Path, typer.Option(help="Supergraph SDL (retailgraph compose).")],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 4000,
    config: ConfigOption = None,
    subgraph_url: Annotated[
        list[str] | None, typer.Option(help="NAME=URL: reach a subgraph at another URL.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds to wait for a subgraph (default 30).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    graphiql: Annotated[
        bool | None, typer.Option(help="Serve GraphiQL on /graphql to browsers (default off).")
    ] = None,
    expose_query_plans: Annotated[
        bool | None,
        typer.Option(help="Honour the Apollo-Expose-Query-Plan header (default off)."),
    ] = None,
    introspection: Annotated[
        bool | None, typer.Option(help="Answer __schema and __type queries (default off).")
    ] = None,
) -> None:
    """Serve the federated graph over HTTP, WebSocket and SSE on /graphql.

    Limits, demand control and the rest come from the settings (docs/configuration.md);
    these options override them.
    """
    from gateway.commands import CommandError, parse_subgraph_urls, serve_gateway
    from kernel.clock import SystemClock
    from retailgraph.observability import Observed

    chosen = {
        "graphiql": graphiql,
        "expose_query_plans": expose_query_plans,
        "introspection": introspection,
        "subgraph_timeout": timeout,
    }
    overrides: dict[str, Any] = {k: v for k, v in chosen.items() if v is not None}
    try:
        if subgraph_url:
            overrides["subgraph_urls"] = parse_subgraph_urls(subgraph_url)
        settings = load_settings(config, gateway=overrides)
        serve_gateway(
            supergraph,
            settings.gateway,
            clock=SystemClock(),
            host=host,
            port=port,
            workers=workers,
            redis_url=settings.redis.url,
            setup=Observed.of(settings, "gateway"),
        )
    except (CommandError, SettingsError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@app.command()
def compose(
    subgraph: Annotated[
        list[str] | None,
        typer.Option(help="NAME=URL of a subgraph; repeat it. Default: our four domains."),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Where to write the supergraph.")] = None,
    check: Annotated[bool, typer.Option(help="Only check that --output is up to date.")] = False,
    config: ConfigOption = None,
) -> None:
    """Compose the supergraph from each subgraph's _service { sdl }.

    With no --subgraph, composes RetailGraph's own four subgraphs into schema.graphql.
    Every configured client's manifests are checked against the result: a change that
    breaks a partner's operation fails, naming the partner and the operation.
    """
    from rich.console import Console

    from gateway.commands import CommandError, configured_clients, run_compose
    from retailgraph.supergraph import SCHEMA_PATH, compose_domains

    if not subgraph and output is None:
        output = SCHEMA_PATH
    try:
        status = run_compose(
            subgraph or [],
            output,
            check=check,
            console=Console(stderr=True),
            compose_default=compose_domains,
            clients=configured_clients(settings_or_exit(config).gateway),
        )
    except CommandError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(status)


@app.command()
def subgraph(
    name: Annotated[str, typer.Argument(help="products, pricing, inventory or orders.")],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: 4001-4004).")] = None,
    config: ConfigOption = None,
) -> None:
    """Serve one domain subgraph as its own service (DATABASE_URL, REDIS_URL apply).

    Orders calls pricing and inventory at checkout: PRICING_SUBGRAPH_URL and
    INVENTORY_SUBGRAPH_URL, by default on their default ports. Its tables must exist
    (``retailgraph db upgrade``) unless ``[database] migrate_on_start`` is set.
    """
    import uvicorn

    from gateway.server import tune_garbage_collector
    from retailgraph.domains import DOMAINS
    from retailgraph.observability import Observed
    from retailgraph.wiring import subgraph_app

    if name not in DOMAINS:
        typer.echo(f"error: no subgraph {name!r}; one of {', '.join(DOMAINS)}", err=True)
        raise typer.Exit(1)
    # A request allocates thousands of short-lived objects (GraphQL execution, SQL
    # statements, HTTP calls to peers); at Python's default threshold they set off
    # collections that walk every long-lived object of the process (the schema, the
    # statement caches, the pools) many times per request. At 32 concurrent checkouts
    # the orders process spent 4.25 CPU ms per order with the default, 3.82 with this
    # (pricing 2.03 and 1.81, inventory 2.49 and 2.32; one run each on a shared host).
    tune_garbage_collector()
    settings = settings_or_exit(config)
    tracer = Observed.of(settings, name)()
    served = subgraph_app(settings, name, tracer)
    # The process's logging is set up: uvicorn's lines go through it, in its format.
    uvicorn.run(
        served, host=host, port=port or DOMAINS[name].port, access_log=False, log_config=None
    )


if __name__ == "__main__":
    app()
