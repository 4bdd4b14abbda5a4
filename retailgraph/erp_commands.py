"""``retailgraph worker erp`` and ``retailgraph erp status|replay``: the ERP posting queue.

The worker's options override the ``[erp.worker]`` settings (``docs/configuration.md``),
so a deployment can configure workers without flags.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from opentelemetry.trace import Tracer

from kernel.clock import Clock, SystemClock
from retailgraph.options import ConfigOption, settings_or_exit
from retailgraph.settings import Settings

if TYPE_CHECKING:
    # The command line loads SQLAlchemy only for the commands that reach a database.
    from sqlalchemy.ext.asyncio import AsyncEngine

worker_app = typer.Typer(no_args_is_help=True, help="Background workers.")
erp_app = typer.Typer(no_args_is_help=True, help="The ERP posting queue: status and replay.")

T = TypeVar("T")


def register(app: typer.Typer) -> None:
    app.add_typer(worker_app, name="worker")
    app.add_typer(erp_app, name="erp")


def _with_orders_engine(
    settings: Settings,
    work: Callable[[AsyncEngine, Clock], Awaitable[T]],
    tracer: Tracer | None = None,
) -> T:
    """Run ``work`` with the orders database (its statements traced by ``tracer``) and the
    process's clock."""
    from sqlalchemy.exc import DBAPIError

    from retailgraph.wiring import orders_database

    async def main() -> T:
        async with orders_database(settings, tracer) as engine:
            return await work(engine, SystemClock())

    try:
        return asyncio.run(main())
    except DBAPIError as error:
        typer.echo(
            f"error: the orders database cannot be used ({type(error.orig).__name__}); "
            "have its tables been made with `retailgraph db upgrade`?",
            err=True,
        )
        raise typer.Exit(1) from None


def _opt(help_: str) -> Any:
    return typer.Option(help=help_, show_default=False)


@worker_app.command("erp")
def worker_erp(
    workers: Annotated[int | None, _opt("Worker tasks in this process [1].")] = None,
    concurrency: Annotated[int | None, _opt("Posts in flight per worker [4].")] = None,
    rate: Annotated[float | None, _opt("ERP calls per second (token bucket) [20].")] = None,
    burst: Annotated[int | None, _opt("Token bucket capacity [20].")] = None,
    max_attempts: Annotated[int | None, _opt("Attempts before dead-lettering [10].")] = None,
    base_delay: Annotated[float | None, _opt("First retry ceiling, seconds [1].")] = None,
    max_delay: Annotated[float | None, _opt("Retry ceiling cap, seconds [300].")] = None,
    breaker_threshold: Annotated[
        int | None, _opt("Consecutive failures that open the breaker [5].")
    ] = None,
    breaker_reset: Annotated[
        float | None, _opt("Seconds the breaker stays open before a probe [5].")
    ] = None,
    lease: Annotated[float | None, _opt("Seconds a claim is held [60].")] = None,
    post_timeout: Annotated[float | None, _opt("Seconds one post may take [20].")] = None,
    poll_interval: Annotated[float | None, _opt("Seconds between idle polls [0.5].")] = None,
    customer: Annotated[
        str | None, _opt("ERP customer for every document (default: the order's).")
    ] = None,
    reference_prefix: Annotated[
        str | None, _opt("Put before every ERP reference (installations sharing an ERP).")
    ] = None,
    simulator_latency: Annotated[
        float | None, _opt("Simulated ERP latency in seconds [0].")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Post orders, cancellations, returns and the stock movements a WMS sent to the ERP
    until SIGTERM.

    The ERP is the simulator unless ``[erp] kind = "tryton"`` (RETAILGRAPH_ERP__KIND, with
    TRYTON_URL, TRYTON_DATABASE, TRYTON_USER, TRYTON_PASSWORD). Run several processes
    against one PostgreSQL to scale out; with REDIS_URL set they share one rate-limit
    bucket. Options override the ``[erp.worker]`` settings.
    """
    from erp.posting.running import serve_workers
    from erp.select import ErpConfigError
    from retailgraph.kpis import kept_for_erp_queue
    from retailgraph.observability import Observed
    from retailgraph.wiring import (
        domain_database,
        erp,
        erp_rate_limiter,
        posting_worker_settings,
        worker_metrics,
    )

    given = {
        "workers": workers,
        "concurrency": concurrency,
        "rate": rate,
        "burst": burst,
        "max_attempts": max_attempts,
        "base_delay": base_delay,
        "max_delay": max_delay,
        "breaker_threshold": breaker_threshold,
        "breaker_reset": breaker_reset,
        "lease": lease,
        "post_timeout": post_timeout,
        "poll_interval": poll_interval,
        "customer": customer,
    }
    erp_overrides = {"reference_prefix": reference_prefix, "simulator_latency": simulator_latency}
    chosen: dict[str, Any] = {k: v for k, v in erp_overrides.items() if v is not None}
    chosen["worker"] = {name: value for name, value in given.items() if value is not None}
    settings = settings_or_exit(config, erp=chosen)
    worker = posting_worker_settings(settings)
    if worker.lease <= worker.post_timeout:
        typer.echo("error: --lease must be longer than --post-timeout", err=True)
        raise typer.Exit(1)
    clock = SystemClock()
    try:
        posting_to = erp(settings, clock=clock)
    except ErpConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    limiter = erp_rate_limiter(settings, worker)
    tracer = Observed.of(settings, "worker-erp")()
    worker_metrics(settings)

    async def serve(engine: AsyncEngine, _: Clock) -> None:
        # The worker owns the queue's KPIs: the backlog it drains and its ERP calls.
        async with (
            kept_for_erp_queue(engine, clock),
            domain_database(settings, "inventory", tracer) as movements,
        ):
            await serve_workers(
                engine,
                posting_to,
                worker,
                count=settings.erp.worker.workers,
                clock=clock,
                limiter=limiter,
                tracer=tracer,
                movements=movements,
            )

    _with_orders_engine(settings, serve, tracer)


@erp_app.command("status")
def erp_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOption = None,
) -> None:
    """The ERP posting backlog, its oldest age, and the dead letters."""
    from domains.orders import erp_postings
    from erp.posting import queue

    async def read(
        engine: AsyncEngine, clock: Clock
    ) -> tuple[queue.Backlog, list[erp_postings.Posting], datetime]:
        return await queue.backlog(engine), await queue.dead_letters(engine), clock.now()

    backlog, dead, now = _with_orders_engine(settings_or_exit(config), read)
    age = backlog.oldest_age(now)
    age_seconds = None if age is None else round(age.total_seconds(), 1)
    if as_json:
        report = {
            "pending": backlog.pending,
            "inProgress": backlog.in_progress,
            "deadLettered": backlog.dead_lettered,
            "oldestAgeSeconds": age_seconds,
            "deadLetters": [
                {"orderId": p.order_id, "reference": p.reference, "kind": p.kind.value,
                 "attempts": p.attempts, "lastError": p.last_error}
                for p in dead
            ],
        }  # fmt: skip
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"backlog: {backlog.pending + backlog.in_progress} "
               f"({backlog.pending} pending, {backlog.in_progress} in progress)")  # fmt: skip
    typer.echo("oldest: " + ("-" if age_seconds is None else f"{age_seconds}s"))
    typer.echo(f"dead letters: {backlog.dead_lettered}")
    for posting in dead:
        typer.echo(
            f"  {posting.reference} ({posting.kind.value}, order {posting.order_id}, "
            f"{posting.attempts} attempts): {posting.last_error}"
        )


@erp_app.command("replay")
def erp_replay(
    order: Annotated[str | None, typer.Option(help="Replay this order's dead letters.")] = None,
    all_dead_lettered: Annotated[
        bool, typer.Option("--all-dead-lettered", help="Replay every dead letter.")
    ] = False,
    movements: Annotated[
        bool,
        typer.Option(
            "--movements", help="Replay the dead-lettered stock moves of a WMS's movements."
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Send dead-lettered postings back to the queue (safe to repeat)."""
    from domains.orders import erp_postings

    if movements:
        if order is not None or all_dead_lettered:
            typer.echo("error: --movements goes alone", err=True)
            raise typer.Exit(2)
        typer.echo(f"replayed {_replay_movements(settings_or_exit(config))} stock move posting(s)")
        return
    if (order is None) == (not all_dead_lettered):
        typer.echo("error: give exactly one of --order ID or --all-dead-lettered", err=True)
        raise typer.Exit(2)
    count = _with_orders_engine(
        settings_or_exit(config),
        lambda engine, clock: erp_postings.replay(engine, order_id=order, now=clock.now()),
    )
    typer.echo(f"replayed {count} posting(s)")


def _replay_movements(settings: Settings) -> int:
    from domains.inventory import erp_postings
    from retailgraph.wiring import domain_database

    async def main() -> int:
        async with domain_database(settings, "inventory") as engine:
            return await erp_postings.replay(engine, now=SystemClock().now())

    return asyncio.run(main())


simulate_app = typer.Typer(
    no_args_is_help=True, help="The simulated ERP of the embedded default (kind = simulator)."
)
erp_app.add_typer(simulate_app, name="simulate")


@simulate_app.command("outage")
def erp_simulate_outage(
    state: Annotated[
        str,
        typer.Argument(
            help="on: take the ERP down; posts: only posting fails, reads answer; "
            "off: bring it back."
        ),
    ],
    config: ConfigOption = None,
) -> None:
    """Take the simulated ERP down or bring it back, for every process that uses it.

    While it is down every call to it fails as unreachable: orders queue with their
    ERP-sync status PENDING, and the workers drain them at their rate once it is back.
    With ``posts`` only documents and stock moves fail to post while its stock can still
    be read, so a reconciliation shows what waits to be posted.
    """
    from retailgraph.wiring import simulator

    if state not in ("on", "posts", "off"):
        typer.echo("error: say on, posts or off", err=True)
        raise typer.Exit(2)
    settings = settings_or_exit(config)
    if settings.erp.kind != "simulator":
        typer.echo(f"error: the ERP is {settings.erp.kind}, not the simulator", err=True)
        raise typer.Exit(1)
    simulated = simulator(settings, clock=SystemClock())
    if state == "posts":
        simulated.posts_down = True
    else:
        simulated.outage = state == "on"
    asyncio.run(simulated.close())
    shown = {"on": "down", "posts": "down for posting (reads answer)", "off": "up"}[state]
    typer.echo(f"the simulated ERP at {simulated.path} is {shown}")
