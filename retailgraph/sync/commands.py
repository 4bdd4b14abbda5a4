"""``retailgraph sync stock|products|prices`` and ``retailgraph reconcile inventory``.

They talk to the configured ERP (``retailgraph.wiring.sync_erp``: the demo simulator by
default) and to the configured databases. Rejected rows are reported, not fatal: the
exit code is non-zero only when the ERP or a database could not be used at all.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from kernel.clock import SystemClock
from retailgraph.options import settings_or_exit
from retailgraph.settings import Settings

sync_app = typer.Typer(no_args_is_help=True, help="Import from the ERP.")
reconcile_app = typer.Typer(no_args_is_help=True, help="Compare the ERP with our ledgers.")


def register(app: typer.Typer, worker_app: typer.Typer) -> None:
    from retailgraph.sync.worker import stock_worker

    app.add_typer(sync_app, name="sync")
    app.add_typer(reconcile_app, name="reconcile")
    worker_app.command("stock")(stock_worker)


T = TypeVar("T")


def _run(
    settings: Settings, work: Callable[[Any, dict[str, Any]], Awaitable[T]], *domains: str
) -> T:
    """Run ``work(erp, domains)``; a failure to reach the ERP or a database exits 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from erp.port import ErpError
    from erp.select import ErpConfigError
    from retailgraph.wiring import running_domains, sync_erp

    async def main() -> T:
        erp = sync_erp(settings, clock=SystemClock())
        try:
            async with running_domains(settings, *domains) as started:
                return await work(erp, started)
        finally:
            await erp.close()

    try:
        return asyncio.run(main())
    except (ErpError, ErpConfigError, OSError, SQLAlchemyError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@sync_app.command("stock")
def sync_stock() -> None:
    """Poll the ERP's stock moves once and apply the new ones (see `worker stock`)."""
    from erp.sync.stock import StockPoller
    from retailgraph.sync.report import table

    settings = settings_or_exit()

    async def work(erp: Any, domains: dict[str, Any]) -> Any:
        poller = StockPoller(
            erp,
            domains["inventory"],
            domains["orders"],
            reference_prefix=settings.erp.reference_prefix,
        )
        return await poller.poll_once()

    report = _run(settings, work, "inventory", "orders")
    console = Console()
    if report.baseline:
        where = report.watermark or "its first move (it has none yet)"
        console.print(
            f"First poll: reading starts at the ERP's position, {where}; its "
            f"{report.read} earlier moves are part of the stock already."
        )
        return
    console.print(
        f"{report.read} moves read, {report.fresh} new: {len(report.applied)} movements "
        f"applied, {len(report.duplicates)} already applied, {len(report.rejected)} rejected, "
        f"{len(report.skipped)} moves skipped (outside our stock, or ours already applied). "
        f"Watermark: {report.watermark}"
    )
    if report.rejected:
        console.print(
            table(
                "Rejected movements",
                ("ERP move", "Type", "SKU", "Location", "Code", "Reason"),
                [
                    (
                        r.movement.source_document_id,
                        r.movement.type.value,
                        r.movement.sku,
                        r.movement.location_id,
                        r.code,
                        r.message,
                    )
                    for r in report.rejected
                ],
            )
        )
    if report.shipments:
        console.print(
            table(
                "Shipments",
                ("Shipment", "Order", "Units", "Outcome", "Status", "Error"),
                [
                    (
                        s.shipment,
                        s.order_number,
                        sum(s.quantities.values()),
                        s.outcome,
                        s.status or "",
                        s.error or "",
                    )
                    for s in report.shipments
                ],
            )
        )


def _progress() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=Console()
    )


@sync_app.command("products")
def sync_products(
    batch_size: Annotated[int, typer.Option(help="Items per transaction.")] = 500,
) -> None:
    """Import the ERP's item master into products, with progress and per-item rejects."""
    from erp.sync.catalog import sync_products as run_sync
    from retailgraph.sync.report import print_rejects

    with _progress() as progress:
        task = progress.add_task("Importing the item master", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        async def work(erp: Any, domains: dict[str, Any]) -> Any:
            return await run_sync(
                erp, domains["products"], batch_size=batch_size, on_progress=advance
            )

        report = _run(settings_or_exit(), work, "products")
    console = Console()
    print_rejects(
        console,
        "Rejected items",
        [(r.index, r.sku or "", r.code, r.reason) for r in report.rejected],
    )
    console.print(
        f"Items: {len(report.accepted) + len(report.rejected)} read, {report.created} created, "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.rejected)} rejected."
    )


@sync_app.command("prices")
def sync_prices(
    currency: Annotated[str, typer.Option(help="Our price list the ERP's prices go to.")] = "EUR",
    batch_size: Annotated[int, typer.Option(help="Rows per transaction.")] = 500,
    effective_from: Annotated[
        datetime | None,
        typer.Option(
            help="When the prices take effect (ISO 8601, UTC unless it says); rows the ERP "
            "dates keep their own moment. Default: now.",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
        ),
    ] = None,
) -> None:
    """Import the ERP's price lists into pricing, with progress and per-row rejects.
    A price moving by more than `[pricing] max_price_change_percent` is held for an
    operator (`heldPriceChanges`, `approvePriceChanges`), not applied."""
    from erp.sync.catalog import sync_prices as run_sync
    from retailgraph.sync.report import print_rejects

    with _progress() as progress:
        task = progress.add_task(f"Importing {currency} prices", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        async def work(erp: Any, domains: dict[str, Any]) -> Any:
            return await run_sync(
                erp,
                domains["pricing"],
                currency=currency,
                effective_from=effective_from,
                batch_size=batch_size,
                on_progress=advance,
            )

        report = _run(settings_or_exit(), work, "pricing")
    console = Console()
    print_rejects(
        console,
        "Rejected prices",
        [(f"{name}#{r.index}", r.sku, r.code, r.reason) for name, r in report.rejected],
    )
    for name, rows in sorted(report.unmapped.items()):
        console.print(f"Skipped the ERP price list {name!r} ({rows} rows): no list of ours.")
    console.print(
        f"Prices: {report.received} read, {report.changed} changed, {report.unchanged} "
        f"unchanged, {len(report.rejected)} rejected ({report.held} held for approval)."
    )


@reconcile_app.command("inventory")
def reconcile_inventory(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    repair: Annotated[
        bool, typer.Option(help="Adjust our stock to the ERP's for unexplained divergences.")
    ] = False,
    sku: Annotated[list[str] | None, typer.Option(help="Only this SKU; repeat it.")] = None,
    location: Annotated[
        list[str] | None, typer.Option(help="Only this location; repeat it.")
    ] = None,
) -> None:
    """Compare the ERP's quantities with our on hand per SKU and location."""
    from erp.sync.reconcile import reconcile_inventory as run_reconcile
    from erp.sync.reconcile import summary_rows
    from retailgraph.sync.report import table

    async def work(erp: Any, domains: dict[str, Any]) -> Any:
        return await run_reconcile(
            erp,
            domains["inventory"],
            repair=repair,
            skus=sku or None,
            locations=location or None,
            orders=domains["orders"].engine,
            reference_prefix=settings.erp.reference_prefix,
        )

    settings = settings_or_exit()
    report = _run(settings, work, "inventory", "orders")
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
        return
    console = Console()
    if report.divergences:
        console.print(
            table(
                "Divergences",
                ("SKU", "Location", "ERP", "Ours", "Difference", "Likely cause"),
                summary_rows(report),
            )
        )
    console.print(
        f"{report.compared} SKU-location pairs compared: {len(report.divergences)} diverge "
        f"by {report.divergent_units} units in all."
    )
    for movement in report.repaired:
        console.print(
            f"Repaired {movement.sku} at {movement.location_id}: adjusted by "
            f"{movement.quantity:+d} ({movement.source_document_id})"
        )
    if repair:
        for divergence, reason in report.not_repaired:
            console.print(f"Left {divergence.sku} at {divergence.location_id} as it is: {reason}")
