"""The products use cases against an in-memory unit of work: commits, events, rejections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import pytest

from domains.products import service
from domains.products.errors import ProductNotFound
from domains.products.model import Product
from kernel.clock import SettableClock
from kernel.events import Event
from tests.support import TEST_NOW

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeProducts:
    def __init__(self) -> None:
        self.rows: dict[str, Product] = {}

    async def get_many(
        self, skus: Sequence[str], *, for_update: bool = False
    ) -> dict[str, Product]:
        return {sku: self.rows[sku] for sku in skus if sku in self.rows}

    async def get(self, sku: str, *, for_update: bool = False) -> Product | None:
        return self.rows.get(sku)

    async def save_many(self, changed: Sequence[Product], at: datetime) -> None:
        self.rows.update({product.sku: product for product in changed})


class FakeUnitOfWork:
    """Stages writes and events, and keeps them only on commit, like the real one."""

    def __init__(self) -> None:
        self.clock = SettableClock(TEST_NOW)
        self.committed = FakeProducts()
        self.events: list[Event] = []
        self.commits = 0
        self._staged = FakeProducts()
        self._pending: list[Event] = []

    @property
    def products(self) -> FakeProducts:
        return self._staged

    async def __aenter__(self) -> Self:
        self._staged = FakeProducts()
        self._staged.rows = dict(self.committed.rows)
        self._pending = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pending = []

    def record(self, *events: Event) -> None:
        self._pending.extend(events)

    async def commit(self) -> None:
        self.committed.rows = dict(self._staged.rows)
        self.events.extend(self._pending)
        self._pending = []
        self.commits += 1


def item(sku: str, **overrides: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": f"Polo {sku}",
        "brand": "Northwind",
        "category": "apparel/tops",
        "unit_of_measure": "EA",
        "style": "ST-1",
        "variant": {"size": sku[-1]},
        **overrides,
    }


async def test_an_import_of_only_bad_items_opens_no_transaction() -> None:
    uow = FakeUnitOfWork()
    report = await service.import_items(uow, [item("A-1", name=""), {"sku": None}])
    assert [r.code for r in report.rejected] == ["INVALID_PRODUCT", "INVALID_PRODUCT"]
    assert uow.commits == 0


async def test_an_import_commits_once_per_batch() -> None:
    uow = FakeUnitOfWork()
    items = [item(f"A-{n}") for n in range(7)]
    report = await service.import_item_master(uow, items, batch_size=3)
    assert uow.commits == 3
    assert report.created == 7
    assert sorted(uow.committed.rows) == sorted(i["sku"] for i in items)


async def test_an_erp_discontinuation_records_the_discontinuation_and_withdrawals() -> None:
    uow = FakeUnitOfWork()
    await service.import_items(uow, [item("A-1")], at=T0)
    await service.publish_product(uow, "A-1", "web", at=T0)
    await service.import_items(uow, [item("A-1", status="discontinued")], at=T0)
    assert [e.type for e in uow.events] == [
        "ProductUpserted",
        "ProductPublished",
        "ProductUpserted",
        "ProductDiscontinued",
        "ProductUnpublished",
    ]
    assert {e.partition_key for e in uow.events} == {"A-1"}


async def test_a_repeated_publication_commits_nothing() -> None:
    uow = FakeUnitOfWork()
    await service.import_items(uow, [item("A-1")])
    await service.publish_product(uow, "A-1", "store")
    commits = uow.commits
    await service.publish_product(uow, "A-1", "store")
    assert uow.commits == commits


async def test_a_failed_bulk_publication_leaves_nothing_behind() -> None:
    uow = FakeUnitOfWork()
    await service.import_items(uow, [item("A-1")])
    with pytest.raises(ProductNotFound):
        await service.publish_many(uow, [("A-1", "web"), ("B-1", "web")])
    assert not uow.committed.rows["A-1"].is_published_in("web")
    assert [e.type for e in uow.events] == ["ProductUpserted"]


async def test_publish_many_counts_only_real_changes() -> None:
    uow = FakeUnitOfWork()
    await service.import_items(uow, [item("A-1"), item("A-2")])
    await service.publish_product(uow, "A-1", "web")
    changed = await service.publish_many(
        uow, [("A-1", "web"), ("A-1", "app"), ("A-2", "web"), ("A-2", "web")]
    )
    assert changed == 2  # A-1 in app, A-2 in web; A-1 was already on the web
