"""The products use cases: each one transaction, its events recorded in the outbox.

Callers: the GraphQL mutations, the demo loader and the ERP item-master sync
(``retailgraph sync products``), which feeds ``import_item_master`` with ERP records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from adapters.metrics.counters import count_import_rejects
from domains.products import model
from domains.products.errors import ProductNotFound
from domains.products.model import Product
from kernel.channels import DEFAULT_SALES, SalesVocabulary
from kernel.errors import DomainError
from kernel.events import Event
from kernel.transaction import Transaction

FEED = "products"  # the import-rejects KPI's feed label


class ProductStore(Protocol):
    """The products a unit of work sees (ProductRepository, or a fake in unit tests)."""

    async def get_many(
        self, skus: Sequence[str], *, for_update: bool = False
    ) -> dict[str, Product]: ...
    async def get(self, sku: str, *, for_update: bool = False) -> Product | None: ...
    async def save_many(self, changed: Sequence[Product], at: datetime) -> None: ...


class UnitOfWork(Transaction, Protocol):
    """One transaction (ProductsUnitOfWork in production)."""

    @property
    def products(self) -> ProductStore: ...


@dataclass(frozen=True, slots=True)
class Rejection:
    """One item the import refused, and why (``code`` is the error code)."""

    index: int
    sku: str | None
    code: str
    reason: str


@dataclass(slots=True)
class ImportReport:
    accepted: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def merge(self, other: ImportReport) -> None:
        self.accepted.extend(other.accepted)
        self.rejected.extend(other.rejected)
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


async def import_items(
    uow: UnitOfWork,
    items: Sequence[Mapping[str, Any]],
    *,
    at: datetime | None = None,
    first_index: int = 0,
) -> ImportReport:
    """Upsert one batch of ERP item-master records in one transaction.

    Bad records are rejected with a reason and the rest still go in. A record identical
    to what is stored changes nothing and records no event, so replays are free.
    """
    at = at or uow.clock.now()
    report = ImportReport()
    parsed: dict[str, Product] = {}
    for index, raw in enumerate(items, start=first_index):
        sku = raw.get("sku") if isinstance(raw, Mapping) else None
        try:
            product = model.parse_item(raw)
        except DomainError as error:
            label = sku if isinstance(sku, str) else None
            report.rejected.append(Rejection(index, label, error.code, error.message))
            continue
        if product.sku in parsed:
            reason = f"SKU {product.sku!r} appears more than once in the batch"
            report.rejected.append(Rejection(index, product.sku, "DUPLICATE_SKU", reason))
            continue
        parsed[product.sku] = product
    count_import_rejects(FEED, (r.code for r in report.rejected))
    if not parsed:
        return report
    async with uow:
        existing = await uow.products.get_many(list(parsed), for_update=True)
        changed: list[Product] = []
        for sku, item in parsed.items():
            before = existing.get(sku)
            after = model.apply_item(before, item, at)
            report.accepted.append(sku)
            if before is not None and after == before:
                report.unchanged += 1
                continue
            changed.append(after)
            uow.record(_event(after, model.upserted(after, created=before is None), at))
            if before is None:
                report.created += 1
            else:
                report.updated += 1
                if after.status == model.DISCONTINUED and before.status != model.DISCONTINUED:
                    uow.record(_event(after, model.discontinued(after, at), at))
                uow.record(*_publication_events(before, after, at))
        await uow.products.save_many(changed, at)
        await uow.commit()
    return report


async def import_item_master(
    uow: UnitOfWork,
    items: Sequence[Mapping[str, Any]],
    *,
    batch_size: int = 500,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import any number of records, ``batch_size`` per transaction, never stopping early.

    ``on_progress`` gets the number of records handled after each batch (for progress bars).
    """
    report = ImportReport()
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        report.merge(await import_items(uow, batch, first_index=start))
        if on_progress is not None:
            on_progress(len(batch))
    return report


async def publish_product(
    uow: UnitOfWork,
    sku: str,
    channel: str,
    *,
    sales: SalesVocabulary = DEFAULT_SALES,
    at: datetime | None = None,
) -> Product:
    """Sell ``sku`` in ``channel``, one the retailer sells through; publishing twice is a
    no-op."""
    model.sold_in(channel, sales)
    return await _change(uow, sku, lambda product, now: model.publish(product, channel, now), at)


async def unpublish_product(
    uow: UnitOfWork, sku: str, channel: str, *, at: datetime | None = None
) -> Product:
    """Stop selling ``sku`` in ``channel``; unpublishing twice is a no-op."""
    return await _change(uow, sku, lambda product, now: model.unpublish(product, channel, now), at)


async def discontinue_product(uow: UnitOfWork, sku: str, *, at: datetime | None = None) -> Product:
    """Stop selling ``sku`` everywhere, for good (until the ERP reactivates it)."""
    return await _change(uow, sku, model.discontinue, at)


async def publish_many(
    uow: UnitOfWork,
    placements: Sequence[tuple[str, str]],
    *,
    sales: SalesVocabulary = DEFAULT_SALES,
    at: datetime | None = None,
) -> int:
    """Publish many (sku, channel) pairs in one transaction; return how many changed.

    All or nothing: an unknown SKU or channel, or a discontinued product, fails the lot.
    """
    at = at or uow.clock.now()
    for _, channel in placements:
        model.sold_in(channel, sales)
    skus = list(dict.fromkeys(sku for sku, _ in placements))
    async with uow:
        before = await uow.products.get_many(skus, for_update=True)
        missing = [sku for sku in skus if sku not in before]
        if missing:
            raise ProductNotFound(missing[0])
        after = dict(before)
        for sku, channel in placements:
            after[sku] = model.publish(after[sku], channel, at)
        changed = [product for sku, product in after.items() if product is not before[sku]]
        events = [e for p in changed for e in _publication_events(before[p.sku], p, at)]
        uow.record(*events)
        await uow.products.save_many(changed, at)
        await uow.commit()
    return len(events)


async def _change(
    uow: UnitOfWork,
    sku: str,
    rule: Callable[[Product, datetime], Product],
    at: datetime | None,
) -> Product:
    at = at or uow.clock.now()
    async with uow:
        before = await uow.products.get(sku, for_update=True)
        if before is None:
            raise ProductNotFound(sku)
        after = rule(before, at)
        if after is before:
            return before
        if after.status == model.DISCONTINUED and before.status != model.DISCONTINUED:
            uow.record(_event(after, model.discontinued(after, at), at))
        uow.record(*_publication_events(before, after, at))
        await uow.products.save_many([after], at)
        await uow.commit()
    return after


def _event(product: Product, change: model.ProductChange, at: datetime) -> Event:
    """A product's change as an event, keyed by its SKU so consumers see one product's
    events in order."""
    return Event.of(change, partition_key=product.sku, occurred_at=at)


def _publication_events(before: Product, after: Product, at: datetime) -> list[Event]:
    return [_event(after, change, at) for change in model.publication_changes(before, after, at)]
