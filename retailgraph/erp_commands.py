"""``retailgraph worker erp`` and ``retailgraph erp status|replay``: the ERP posting queue.

Every option also reads an environment variable (shown in --help), so a deployment can
configure workers without flags.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.clock import Clock

worker_app = typer.Typer(no_args_is_help=True, help="Background workers.")
erp_app = typer.Typer(no_args_is_help=True, help="The ERP posting queue: status and replay.")

T = TypeVar("T")


def register(app: typer.Typer) -> None:
    app.add_typer(worker_app, name="worker")
    app.add_typer(erp_app, name="erp")


def _with_orders_engine(work: Callable[[AsyncEngine, Clock], Awaitable[T]]) -> T:
    """Run ``work`` with the orders database and the process's clock."""

    async def main() -> T:
        from adapters.runtime import Runtime, open_database
        from domains.orders import tables

        runtime = Runtime()
        engine, _ = await open_database(runtime, "orders", tables.metadata)
        try:
            return await work(engine, runtime.clock)
        finally:
            await engine.dispose()
            await runtime.close()

    return asyncio.run(main())


def _opt(help_: str, env: str) -> Any:
    return typer.Option(help=help_, envvar=f"RETAILGRAPH_ERP_{env}")


@worker_app.command("erp")
def worker_erp(
    workers: Annotated[int, _opt("Worker tasks in this process.", "WORKERS")] = 1,
    concurrency: Annotated[int, _opt("Posts in flight per worker.", "CONCURRENCY")] = 4,
    rate: Annotated[float, _opt("ERP calls per second (token bucket).", "RATE")] = 20.0,
    burst: Annotated[int, _opt("Token bucket capacity.", "BURST")] = 20,
    max_attempts: Annotated[int, _opt("Attempts before dead-lettering.", "MAX_ATTEMPTS")] = 10,
    base_delay: Annotated[float, _opt("First retry ceiling, seconds.", "BASE_DELAY")] = 1.0,
    max_delay: Annotated[float, _opt("Retry ceiling cap, seconds.", "MAX_DELAY")] = 300.0,
    breaker_threshold: Annotated[
        int, _opt("Consecutive failures that open the breaker.", "BREAKER_THRESHOLD")
    ] = 5,
    breaker_reset: Annotated[
        float, _opt("Seconds the breaker stays open before a probe.", "BREAKER_RESET")
    ] = 5.0,
    lease: Annotated[float, _opt("Seconds a claim is held.", "LEASE")] = 60.0,
    post_timeout: Annotated[float, _opt("Seconds one post may take.", "POST_TIMEOUT")] = 20.0,
    poll_interval: Annotated[float, _opt("Seconds between idle polls.", "POLL_INTERVAL")] = 0.5,
    customer: Annotated[
        str | None, _opt("ERP customer for every document (default: the order's).", "CUSTOMER")
    ] = None,
    reference_prefix: Annotated[
        str, _opt("Put before every ERP reference (installations sharing an ERP).", "PREFIX")
    ] = "",
    simulator_latency: Annotated[
        float, _opt("Simulated ERP latency in seconds.", "SIMULATOR_LATENCY")
    ] = 0.0,
) -> None:
    """Post orders, cancellations and returns to the ERP until SIGTERM.

    The ERP is the simulator unless RETAILGRAPH_ERP=tryton (with TRYTON_URL,
    TRYTON_DATABASE, TRYTON_USER, TRYTON_PASSWORD). Run several processes against one
    PostgreSQL to scale out; with REDIS_URL set they share one rate-limit bucket.
    """
    import logging

    from erp.posting.retry import RetryPolicy
    from erp.posting.running import serve_workers
    from erp.posting.worker import WorkerSettings
    from erp.select import ErpConfigError, erp_from_env

    if lease <= post_timeout:
        typer.echo("error: --lease must be longer than --post-timeout", err=True)
        raise typer.Exit(1)
    settings = WorkerSettings(
        concurrency=concurrency,
        poll_interval=poll_interval,
        lease=lease,
        post_timeout=post_timeout,
        retry=RetryPolicy(base_delay=base_delay, max_delay=max_delay, max_attempts=max_attempts),
        breaker_threshold=breaker_threshold,
        breaker_reset=breaker_reset,
        rate=rate,
        burst=burst,
        customer=customer,
        reference_prefix=reference_prefix,
    )
    try:
        erp = erp_from_env(simulator_latency=simulator_latency)
    except ErpConfigError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    _with_orders_engine(
        lambda engine, clock: serve_workers(engine, erp, settings, count=workers, clock=clock)
    )


@erp_app.command("status")
def erp_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The ERP posting backlog, its oldest age, and the dead letters."""
    from domains.orders import erp_postings
    from erp.posting import queue

    async def read(
        engine: AsyncEngine, clock: Clock
    ) -> tuple[queue.Backlog, list[erp_postings.Posting], datetime]:
        return await queue.backlog(engine), await queue.dead_letters(engine), clock.now()

    backlog, dead, now = _with_orders_engine(read)
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
) -> None:
    """Send dead-lettered postings back to the queue (safe to repeat)."""
    from domains.orders import erp_postings

    if (order is None) == (not all_dead_lettered):
        typer.echo("error: give exactly one of --order ID or --all-dead-lettered", err=True)
        raise typer.Exit(2)
    count = _with_orders_engine(
        lambda engine, clock: erp_postings.replay(engine, order_id=order, now=clock.now())
    )
    typer.echo(f"replayed {count} posting(s)")
