"""What ``retailgraph gateway`` and ``retailgraph compose`` do, apart from option parsing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.security.clients import ANONYMOUS, ClientDirectory
from gateway.security.clock import Clock
from gateway.security.identity import IdentitySigner
from gateway.security.jwt import JwksVerifier
from gateway.server import serve, tune_garbage_collector
from gateway.settings import GatewaySettings

log = logging.getLogger("gateway")


class CommandError(Exception):
    """A user error: printed as one line, exit status 1, no traceback."""


def parse_subgraph_urls(values: Sequence[str]) -> dict[str, str]:
    urls: dict[str, str] = {}
    for value in values:
        name, separator, url = value.partition("=")
        if not separator or not name.strip() or not url.strip():
            raise CommandError(f"expected NAME=URL, got {value!r}")
        urls[name.strip()] = url.strip()
    return urls


def federated_engine(
    sdl: str,
    settings: GatewaySettings,
    subgraphs: Mapping[str, SubgraphOptions],
    *,
    clock: Clock,
) -> FederatedEngine:
    """The engine as ``settings`` say (limits, demand control, introspection, timeouts,
    the secret the caller's identity is signed with for the subgraphs)."""
    secret = settings.identity_secret
    if secret is None:
        log.warning(
            "no [gateway] identity_secret: the subgraphs will see every request as anonymous"
        )
    return FederatedEngine(
        sdl,
        subgraphs=subgraphs,
        default_timeout=settings.subgraph_timeout,
        introspection=settings.introspection,
        limits=settings.limits.operation_limits(),
        cost=settings.cost.cost_limits(),
        proxies=settings.proxy.proxies(),
        identity=None
        if secret is None
        else IdentitySigner(secret.get_secret_value().encode(), clock),
    )


def client_directory(settings: GatewaySettings, clock: Clock) -> ClientDirectory:
    """The clients ``settings`` configure, and the identity provider whose tokens name them."""
    provider = settings.identity_provider
    return ClientDirectory(
        [client.client(name) for name, client in settings.clients.items()],
        anonymous=settings.anonymous.client(ANONYMOUS) if settings.anonymous.enabled else None,
        tokens=None
        if provider is None
        else JwksVerifier(
            provider.jwt_settings(),
            clock=clock,
            proxy=settings.proxy.proxies().for_url(provider.jwks_url),
        ),
        client_claim="azp" if provider is None else provider.client_claim,
    )


def gateway_app(
    engine: FederatedEngine, settings: GatewaySettings, *, clock: Clock, **options: Any
) -> Starlette:
    """The front door as ``settings`` say; ``options`` go to ``create_app`` as they are."""
    return create_app(
        engine,
        limits=settings.limits.transport_limits(),
        graphiql=settings.graphiql,
        graphiql_headers=settings.graphiql_headers,
        expose_query_plan=settings.expose_query_plans,
        clients=client_directory(settings, clock),
        **options,
    )


def build_gateway(supergraph: Path, settings: GatewaySettings, *, clock: Clock) -> Starlette:
    from gateway.supergraph import SupergraphError

    try:
        sdl = supergraph.read_text()
    except OSError as error:
        raise CommandError(f"cannot read the supergraph {supergraph}: {error}") from None
    try:
        subgraphs = {n: SubgraphOptions(url=u) for n, u in settings.subgraph_urls.items()}
        engine = federated_engine(sdl, settings, subgraphs, clock=clock)
    except SupergraphError as error:
        raise CommandError(f"invalid supergraph {supergraph}: {error}") from None
    unknown = set(settings.subgraph_urls) - set(engine.supergraph.subgraphs)
    if unknown:
        raise CommandError(f"no such subgraph in the supergraph: {', '.join(sorted(unknown))}")
    return gateway_app(engine, settings, clock=clock)


@dataclass(frozen=True)
class GatewayFactory:
    """Builds the app in each worker process (``--workers`` > 1): it travels to the
    workers as it is, pickled, so they need no environment or file to know the settings."""

    supergraph: Path
    settings: GatewaySettings
    clock: Clock

    def __call__(self) -> Starlette:
        tune_garbage_collector()
        return build_gateway(self.supergraph, self.settings, clock=self.clock)


def serve_gateway(
    supergraph: Path,
    settings: GatewaySettings,
    *,
    clock: Clock,
    host: str,
    port: int,
    workers: int = 1,
) -> None:
    largest = settings.limits.max_body_bytes
    if workers <= 1:
        app = build_gateway(supergraph, settings, clock=clock)
        serve(app, host=host, port=port, max_message_bytes=largest)
        return
    build_gateway(supergraph, settings, clock=clock)  # fail here, once, on bad input
    serve(
        GatewayFactory(supergraph.resolve(), settings, clock),
        host=host,
        port=port,
        workers=workers,
        factory=True,
        max_message_bytes=largest,
    )


def run_compose(
    subgraphs: Sequence[str],
    output: Path | None,
    *,
    check: bool = False,
    console: Console,
    compose_default: Callable[[], Coroutine[Any, Any, str]] | None = None,
) -> int:
    """Compose from live subgraphs; write ``output`` (or print), or with ``check`` compare.

    Without ``--subgraph`` options, ``compose_default`` composes (the product's own
    subgraphs, for ``retailgraph compose``).
    """
    from gateway.supergraph.compose import CompositionError, compose_from_urls
    from gateway.supergraph.compose.report import print_errors

    endpoints = parse_subgraph_urls(subgraphs)

    async def compose_live() -> str:
        return await compose_from_urls(endpoints)

    compose_now = compose_live if endpoints else compose_default
    if compose_now is None:
        raise CommandError("give at least one --subgraph NAME=URL")
    try:
        supergraph = asyncio.run(compose_now())
    except CompositionError as error:
        print_errors(error, console)
        return 1
    if check:
        if output is None:
            raise CommandError("--check needs --output, the file to compare with")
        current = output.read_text() if output.exists() else ""
        if current != supergraph:
            console.print(f"[red]{output} is out of date[/red]: run retailgraph compose again.")
            return 1
        console.print(f"[green]{output} is up to date.[/green]")
        return 0
    if output is None:
        print(supergraph, end="")
    else:
        output.write_text(supergraph)
        console.print(f"[green]Wrote {output}[/green].")
    return 0
