"""``retailgraph worker stock``: the stock move poller, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import signal
from typing import Annotated, Any

import typer


def stock_worker(
    every: Annotated[float, typer.Option(help="Seconds between polls.")] = 5.0,
    overlap: Annotated[float, typer.Option(help="Seconds of overlap re-read each poll.")] = 5.0,
) -> None:
    """Poll the ERP's stock moves and apply them to inventory (and shipments to orders),
    and run the whole reconciliation on its schedule (``[erp.reconcile]``)."""
    from erp.sync.schedule import reconciling
    from erp.sync.stock import StockPoller
    from kernel.clock import SystemClock
    from retailgraph.observability import Observed
    from retailgraph.options import settings_or_exit
    from retailgraph.wiring import running_domains, sync_erp, worker_metrics

    settings = settings_or_exit()
    tracer = Observed.of(settings, "worker-stock")()
    worker_metrics(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        erp: Any = sync_erp(settings, clock=SystemClock())
        try:
            async with running_domains(settings, "inventory", "orders", tracer=tracer) as domains:
                poller = StockPoller(
                    erp,
                    domains["inventory"],
                    domains["orders"],
                    overlap=datetime.timedelta(seconds=overlap),
                    reference_prefix=settings.erp.reference_prefix,
                )
                schedule = settings.erp.reconcile
                async with contextlib.AsyncExitStack() as scheduled:
                    if schedule.enabled:
                        await scheduled.enter_async_context(
                            reconciling(erp, domains["inventory"], schedule)
                        )
                    await poller.run(every=every, stop=stop)
        finally:
            await erp.close()

    asyncio.run(main())
