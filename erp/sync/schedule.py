"""The whole inventory reconciliation on a schedule (scenario 9: nightly).

Due times are ``at`` (UTC) on 1 January 1970 plus whole multiples of ``every``: with a
day, every night at ``at``. Each run looks at the injected clock, takes the latest due
time and claims it in inventory's feed table; only the replica whose claim succeeds
reconciles, so a due time runs once however many workers watch it. A worker that starts
after a due time it missed runs it then (a night's reconciliation is late, not lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from domains.inventory import feeds
from domains.inventory.bootstrap import InventoryDomain
from erp.port import ErpPort
from erp.settings import ReconcileSettings
from erp.sync.reconcile import ReconcileReport, reconcile_inventory

log = logging.getLogger(__name__)

SCHEDULE = "erp-reconcile-schedule"


def last_due(
    now: datetime.datetime, every: datetime.timedelta, at: datetime.time
) -> datetime.datetime:
    """The latest due time at or before ``now``."""
    origin = datetime.datetime.combine(datetime.date(1970, 1, 1), at, tzinfo=datetime.UTC)
    return origin + ((now - origin) // every) * every


@dataclass
class ScheduledReconciliation:
    erp: ErpPort
    inventory: InventoryDomain
    settings: ReconcileSettings
    # The orders database (returns not yet posted explain differences) and the prefix the
    # ERP worker puts before our references.
    orders: AsyncEngine | None = None
    reference_prefix: str = ""
    # A due time this replica claimed and could not finish: tried again on the next look.
    _unfinished: datetime.datetime | None = field(default=None, init=False)

    async def run_due(self) -> ReconcileReport | None:
        """The reconciliation of the latest due time, if this replica is the one to run
        it; None when it is not due or another replica has it."""
        settings = self.settings
        due = last_due(self.inventory.clock.now(), settings.period, settings.anchor)
        if due != self._unfinished and not await feeds.claim_moment(
            self.inventory.uow(), SCHEDULE, due
        ):
            return None
        self._unfinished = due
        report = await reconcile_inventory(
            self.erp,
            self.inventory,
            orders=self.orders,
            reference_prefix=self.reference_prefix,
        )
        self._unfinished = None
        log.info(
            "scheduled reconciliation of %s: %d pairs compared, %d diverge by %d units",
            due.isoformat(),
            report.compared,
            len(report.divergences),
            report.divergent_units,
        )
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Look for a due run every ``check_interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.run_due()
            except Exception:
                log.exception("the scheduled reconciliation failed; trying again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.check_interval)


@contextlib.asynccontextmanager
async def reconciling(
    erp: ErpPort,
    inventory: InventoryDomain,
    settings: ReconcileSettings,
    *,
    orders: AsyncEngine | None = None,
    reference_prefix: str = "",
) -> AsyncIterator[ScheduledReconciliation]:
    """The schedule running in the background until the block ends."""
    schedule = ScheduledReconciliation(erp, inventory, settings, orders, reference_prefix)
    stop = asyncio.Event()
    task = asyncio.create_task(schedule.run(stop))
    try:
        yield schedule
    finally:
        stop.set()
        await task
