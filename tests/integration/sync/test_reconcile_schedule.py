"""The scheduled reconciliation: due times from the settings, and one run per due time
however many replicas look at once, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from domains.inventory.bootstrap import InventoryDomain
from erp.settings import ReconcileSettings
from erp.simulator import SimulatedErp
from erp.sync.schedule import ScheduledReconciliation, last_due
from kernel.clock import SettableClock


def test_a_nightly_schedule_is_due_at_its_time_each_day_and_an_hourly_one_each_hour() -> None:
    day, hour = timedelta(days=1), timedelta(hours=1)
    at = datetime(2026, 11, 22, 1, 59, tzinfo=UTC)
    assert last_due(at, day, time(2, 0)) == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    at = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    assert last_due(at, day, time(2, 0)) == at
    at = datetime(2026, 11, 22, 12, 14, tzinfo=UTC)
    assert last_due(at, hour, time(0, 15)) == datetime(2026, 11, 22, 11, 15, tzinfo=UTC)


async def test_replicas_looking_at_once_run_each_due_time_once(inventory: InventoryDomain) -> None:
    clock = inventory.clock
    assert isinstance(clock, SettableClock)
    erp = SimulatedErp(stock={("ST-0001-01", "DC-NORTH"): Decimal(3)})
    settings = ReconcileSettings(every=86400, at="02:00")
    replicas = [ScheduledReconciliation(erp, inventory, settings) for _ in range(3)]

    reports = await asyncio.gather(*(replica.run_due() for replica in replicas))
    assert sum(report is not None for report in reports) == 1
    again = await asyncio.gather(*(replica.run_due() for replica in replicas))
    assert again == [None, None, None]

    clock.advance(timedelta(days=1))
    nights = await asyncio.gather(*(replica.run_due() for replica in replicas))
    [ran] = [report for report in nights if report is not None]
    assert ran.stored is not None
    assert [(d.sku, d.difference) for d in ran.divergences] == [("ST-0001-01", 3)]
