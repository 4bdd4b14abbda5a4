"""The products use cases on both SQLite and PostgreSQL: state, outbox events and the cache."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from domains.products import repository, service
from domains.products.bootstrap import ProductsDomain
from kernel.errors import DomainError
from kernel.events import Event
from tests.integration.products.conftest import make_items, relayed
from tests.support import EVENT_TIME


async def outbox_events(domain: ProductsDomain) -> list[tuple[str, str, dict[str, Any]]]:
    table = repository.outbox
    async with domain.engine.connect() as conn:
        query = select(table.c.type, table.c.partition_key, table.c.payload).order_by(table.c.seq)
        return [tuple(row) for row in (await conn.execute(query)).all()]  # type: ignore[misc]


async def test_import_items_stores_every_good_item_and_records_an_event_each(
    domain: ProductsDomain,
) -> None:
    items = make_items(styles=2, variants=3)
    report = await service.import_items(domain.uow(), items)
    assert sorted(report.accepted) == sorted(i["sku"] for i in items)
    assert (report.created, report.updated, report.rejected) == (6, 0, [])
    events = await outbox_events(domain)
    assert [(kind, key) for kind, key, _ in events] == [
        ("ProductUpserted", i["sku"]) for i in items
    ]
    assert events[0][2]["created"] is True
    async with domain.uow() as uow:
        stored = await uow.products.get("ST-0001-02")
    assert stored is not None
    assert stored.style == "ST-0001"
    assert [(a.name, a.value) for a in stored.variant_attributes] == [("colour", "white")]


async def test_import_items_rejects_bad_rows_with_reasons_and_keeps_going(
    domain: ProductsDomain,
) -> None:
    good = make_items(styles=1, variants=2)
    batch: list[Any] = [
        good[0],
        {**good[1], "name": ""},
        "not an item",
        {**good[1], "unit_of_measure": "each piece"},
        good[1],
        good[1],
    ]
    report = await service.import_items(domain.uow(), batch)
    assert report.accepted == [good[0]["sku"], good[1]["sku"]]
    assert [(r.index, r.sku, r.code) for r in report.rejected] == [
        (1, good[1]["sku"], "INVALID_PRODUCT"),
        (2, None, "INVALID_PRODUCT"),
        (3, good[1]["sku"], "INVALID_PRODUCT"),
        (5, good[1]["sku"], "DUPLICATE_SKU"),
    ]
    assert "name" in report.rejected[0].reason


async def test_importing_the_same_items_again_changes_nothing(domain: ProductsDomain) -> None:
    items = make_items(styles=2, variants=2)
    await service.import_items(domain.uow(), items)
    before = await outbox_events(domain)
    again = await service.import_items(domain.uow(), items)
    assert again.unchanged == len(items)
    assert await outbox_events(domain) == before


async def test_import_updates_changed_master_data_and_keeps_publications(
    domain: ProductsDomain,
) -> None:
    items = make_items(styles=1, variants=1)
    await service.import_items(domain.uow(), items)
    await service.publish_product(domain.uow(), "ST-0001-01", "web")
    report = await service.import_items(domain.uow(), [{**items[0], "name": "Renamed polo"}])
    assert report.updated == 1
    async with domain.uow() as uow:
        stored = await uow.products.get("ST-0001-01")
    assert stored is not None
    assert stored.name == "Renamed polo"
    assert stored.is_published_in("web")
    kind, key, payload = (await outbox_events(domain))[-1]
    assert (kind, key, payload["name"], payload["created"]) == (
        "ProductUpserted",
        "ST-0001-01",
        "Renamed polo",
        False,
    )


async def test_import_item_master_works_in_batches_and_reports_progress(
    domain: ProductsDomain,
) -> None:
    items = make_items(styles=5, variants=2)
    items[7] = {**items[7], "category": "Not A Path"}
    progress: list[int] = []
    report = await service.import_item_master(
        domain.uow(), items, batch_size=3, on_progress=progress.append
    )
    assert progress == [3, 3, 3, 1]
    assert len(report.accepted) == 9
    assert [(r.index, r.code) for r in report.rejected] == [(7, "INVALID_PRODUCT")]


async def test_publish_and_unpublish_record_events_keyed_by_sku_once(
    domain: ProductsDomain,
) -> None:
    await service.import_items(domain.uow(), make_items(styles=1, variants=1))
    published = await service.publish_product(domain.uow(), "ST-0001-01", "app")
    again = await service.publish_product(domain.uow(), "ST-0001-01", "app")
    withdrawn = await service.unpublish_product(domain.uow(), "ST-0001-01", "app")
    await service.unpublish_product(domain.uow(), "ST-0001-01", "app")
    assert published.is_published_in("app")
    assert again == published
    assert not withdrawn.is_published_in("app")
    events = (await outbox_events(domain))[1:]
    assert [(kind, key, payload["channel"]) for kind, key, payload in events] == [
        ("ProductPublished", "ST-0001-01", "app"),
        ("ProductUnpublished", "ST-0001-01", "app"),
    ]


async def test_discontinue_withdraws_everywhere_and_blocks_publishing(
    domain: ProductsDomain,
) -> None:
    await service.import_items(domain.uow(), make_items(styles=1, variants=1))
    await service.publish_many(domain.uow(), [("ST-0001-01", "web"), ("ST-0001-01", "store")])
    gone = await service.discontinue_product(domain.uow(), "ST-0001-01")
    assert gone.status == "discontinued"
    assert not gone.is_published_in("web")
    assert not gone.is_published_in("store")
    kinds = [kind for kind, _, _ in await outbox_events(domain)][-3:]
    assert kinds == ["ProductDiscontinued", "ProductUnpublished", "ProductUnpublished"]
    with pytest.raises(DomainError) as caught:
        await service.publish_product(domain.uow(), "ST-0001-01", "web")
    assert caught.value.code == "PRODUCT_DISCONTINUED"


@pytest.mark.parametrize(
    ("sku", "channel", "code"),
    [("NOPE-1", "web", "PRODUCT_NOT_FOUND"), ("ST-0001-01", "fax", "UNKNOWN_CHANNEL")],
)
async def test_publish_refuses_unknown_products_and_channels(
    domain: ProductsDomain, sku: str, channel: str, code: str
) -> None:
    await service.import_items(domain.uow(), make_items(styles=1, variants=1))
    with pytest.raises(DomainError) as caught:
        await service.publish_product(domain.uow(), sku, channel)
    assert caught.value.code == code


async def test_publish_many_is_all_or_nothing(domain: ProductsDomain) -> None:
    await service.import_items(domain.uow(), make_items(styles=1, variants=2))
    with pytest.raises(DomainError) as caught:
        await service.publish_many(domain.uow(), [("ST-0001-01", "web"), ("NOPE-1", "web")])
    assert caught.value.code == "PRODUCT_NOT_FOUND"
    async with domain.uow() as uow:
        stored = await uow.products.get("ST-0001-01")
    assert stored is not None
    assert not stored.is_published_in("web")


async def test_committed_events_reach_the_bus_through_the_relay(domain: ProductsDomain) -> None:
    seen: list[Event] = []
    both_seen = asyncio.Event()

    async def collect(event: Event) -> None:
        seen.append(event)
        if len(seen) == 2:
            both_seen.set()

    domain.runtime.bus.subscribe(collect)
    await service.import_items(domain.uow(), make_items(styles=1, variants=1))
    await service.publish_product(domain.uow(), "ST-0001-01", "web")
    # The domain's own relay task runs on commit; wait for it rather than race it.
    async with asyncio.timeout(10):
        await both_seen.wait()
    assert [(e.type, e.partition_key) for e in seen] == [
        ("ProductUpserted", "ST-0001-01"),
        ("ProductPublished", "ST-0001-01"),
    ]


async def test_a_cached_card_shows_a_change_right_after_it_commits(
    domain: ProductsDomain,
) -> None:
    await service.import_items(domain.uow(), make_items(styles=1, variants=1))
    cached = await domain.cards.get("ST-0001-01")
    assert cached["publications"] == []
    await service.publish_product(domain.uow(), "ST-0001-01", "store")
    fresh = await domain.cards.get("ST-0001-01")
    assert [channel for channel, published, _ in fresh["publications"] if published] == ["store"]


async def test_a_product_event_from_another_replica_drops_the_cached_card(
    domain: ProductsDomain,
) -> None:
    await service.import_items(domain.uow(), make_items(styles=1, variants=1))
    await relayed(domain)
    await domain.cards.get("ST-0001-01")
    store_key = domain.cards.key("ST-0001-01")
    assert (await domain.runtime.cache.get_many([store_key]))[0] is not None
    event = Event(
        type="ProductPublished", partition_key="ST-0001-01", payload={}, occurred_at=EVENT_TIME
    )
    await domain.runtime.bus.publish([event])
    assert (await domain.runtime.cache.get_many([store_key]))[0] is None


async def test_concurrent_publications_of_one_product_record_one_event(
    domain: ProductsDomain,
) -> None:
    await service.import_items(domain.uow(), make_items(styles=1, variants=1))
    results = await asyncio.gather(
        *(service.publish_product(domain.uow(), "ST-0001-01", "web") for _ in range(20))
    )
    assert all(product.is_published_in("web") for product in results)
    kinds = [kind for kind, _, _ in await outbox_events(domain)]
    assert kinds.count("ProductPublished") == 1
