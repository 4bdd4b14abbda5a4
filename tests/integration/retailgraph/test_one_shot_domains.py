"""The sync commands and workers publish their domains' events and consume none."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from adapters.bus import Handler, InProcessBus
from adapters.db.engine import DatabaseLocations
from adapters.runtime import Runtime
from domains.inventory import service
from domains.inventory.model import StockLevel
from kernel.events import Event
from retailgraph.domains import DOMAINS
from retailgraph.embedded import running_subgraphs, subgraph_apps
from retailgraph.settings import load_settings
from retailgraph.wiring import running_domains
from tests.integration.inventory.conftest import seed_locations
from tests.support import suite_clock


class WatchedBus(InProcessBus):
    def __init__(self) -> None:
        super().__init__()
        self.subscribed: list[Handler] = []

    def subscribe(
        self,
        handler: Handler,
        *,
        types: Sequence[str] | None = None,
        group: str | None = None,
        fanout: bool = False,
    ) -> None:
        self.subscribed.append(handler)
        super().subscribe(handler, types=types, group=group, fanout=fanout)


async def test_domains_started_for_a_command_publish_their_events_and_consume_none(
    tmp_path: Path,
) -> None:
    bus = WatchedBus()
    seen: list[str] = []

    async def elsewhere(event: Event) -> None:
        seen.append(event.type)

    bus.subscribe(elsewhere)
    runtime = Runtime(
        databases=DatabaseLocations(data_dir=tmp_path),
        bus=bus,
        migrate_on_start=True,
        clock=suite_clock(),
    )
    async with running_domains(load_settings(), *DOMAINS, on=runtime) as domains:
        inventory = domains["inventory"]
        await seed_locations(inventory)
        await service.import_stock_levels(inventory.uow(), [StockLevel("SKU-1", "DC", on_hand=5)])
    # Every domain started, none subscribed a consumer: the only one is this test's.
    assert bus.subscribed == [elsewhere]
    # What the command changed reached the bus before the domains stopped.
    assert "StockChanged" in seen, seen


async def test_the_price_guard_of_the_settings_reaches_every_pricing_domain(
    tmp_path: Path,
) -> None:
    settings = load_settings(pricing={"max_price_change_percent": "20"})
    runtime = Runtime(
        databases=DatabaseLocations(data_dir=tmp_path), migrate_on_start=True, clock=suite_clock()
    )
    async with running_domains(settings, "pricing", on=runtime) as domains:
        assert domains["pricing"].max_price_change_percent == Decimal(20)
    apps = subgraph_apps(
        Runtime(
            databases=DatabaseLocations(data_dir=tmp_path / "served"),
            migrate_on_start=True,
            clock=suite_clock(),
        ),
        settings.pricing,
    )
    async with running_subgraphs({"pricing": apps["pricing"]}) as served:
        assert served["pricing"].max_price_change_percent == Decimal(20)
