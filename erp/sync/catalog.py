"""Batch imports from the ERP: the item master into products, price lists into pricing.

Both go through the domains' import use cases, which reject bad rows with a code and a
reason and carry on; a rerun changes nothing (unchanged rows record no event).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domains.pricing import imports as price_imports
from domains.pricing.bootstrap import PricingDomain
from domains.products import repository as product_store
from domains.products import service as products
from domains.products.bootstrap import ProductsDomain
from domains.products.model import ACTIVE, DISCONTINUED, Product
from erp.port import ErpPort, Item, PriceListEntry

Progress = Callable[[int, int], None]  # (rows done so far, rows in all)

# Item fields the ERP may carry besides name and status; what it leaves out is kept
# from our product (Tryton's item master has no brand or category, for instance).
MASTER_FIELDS = ("description", "brand", "category", "unit_of_measure", "style")
# ERP price lists that are the base list of every channel; a list named after a channel
# overrides that channel's price.
BASE_LISTS = ("list", "default", "base")


def item_record(item: Item, existing: Product | None) -> dict[str, Any]:
    """The item-master record products imports, from the ERP's item and our product."""
    record: dict[str, Any] = {}
    if existing is not None:
        record = {
            "description": existing.description,
            "brand": existing.brand,
            "category": existing.category,
            "unit_of_measure": existing.unit_of_measure,
            "style": existing.style,
            "attributes": {a.name: a.value for a in existing.attributes},
            "variant": {a.name: a.value for a in existing.variant_attributes},
        }
    record.update(
        {field: item.attributes[field] for field in MASTER_FIELDS if field in item.attributes}
    )
    extra = {k: v for k, v in item.attributes.items() if k not in MASTER_FIELDS}
    if extra:
        record["attributes"] = {**record.get("attributes", {}), **extra}
    record.update(sku=item.sku, name=item.name, status=ACTIVE if item.salable else DISCONTINUED)
    return record


async def sync_products(
    erp: ErpPort,
    domain: ProductsDomain,
    *,
    batch_size: int = 500,
    on_progress: Progress | None = None,
) -> products.ImportReport:
    items = await erp.items()
    report = products.ImportReport()
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        async with domain.engine.connect() as conn:
            existing = await product_store.load_products(conn, [item.sku for item in batch])
        records = [item_record(item, existing.get(item.sku)) for item in batch]
        report.merge(await products.import_items(domain.uow(), records, first_index=start))
        if on_progress is not None:
            on_progress(start + len(batch), len(items))
    return report


@dataclass
class PriceSyncReport:
    currency: str
    received: int = 0
    changed: int = 0
    unchanged: int = 0
    held: int = 0  # of the rejected: HELD_FOR_APPROVAL, waiting for an operator
    rejected: list[tuple[str, price_imports.RejectedRow]] = field(default_factory=list)
    # ERP price lists that map to none of our lists, with how many rows each had.
    unmapped: dict[str, int] = field(default_factory=dict)


def list_channel(price_list: str, channels: tuple[str, ...]) -> tuple[bool, str | None]:
    """Whether an ERP price list maps to one of ours, and its channel (None: every one)."""
    name = price_list.strip().lower()
    if name in BASE_LISTS:
        return True, None
    return name in channels, name if name in channels else None


async def sync_prices(
    erp: ErpPort,
    domain: PricingDomain,
    *,
    currency: str = "EUR",
    effective_from: datetime | None = None,
    batch_size: int = 500,
    on_progress: Progress | None = None,
) -> PriceSyncReport:
    """Import the ERP's price lists into ``currency``'s lists, in effect from the moment
    the ERP dates each price, else ``effective_from``, else now. Rows in another
    currency are rejected (CURRENCY_MISMATCH), as are unknown SKUs and negative prices;
    a price moving by more than the domain's guard allows is held for approval
    (HELD_FOR_APPROVAL)."""
    entries = await erp.price_lists()
    report = PriceSyncReport(currency=currency, received=len(entries))
    by_channel: dict[str | None, list[PriceListEntry]] = defaultdict(list)
    names: dict[str | None, str] = {}
    for entry in entries:
        mapped, channel = list_channel(entry.price_list, domain.sales.channels)
        if not mapped:
            report.unmapped[entry.price_list] = report.unmapped.get(entry.price_list, 0) + 1
            continue
        by_channel[channel].append(entry)
        names[channel] = entry.price_list
    done = sum(report.unmapped.values())
    for channel, rows in sorted(by_channel.items(), key=lambda kv: kv[0] or ""):

        def progress(handled: int, _total: int, base: int = done) -> None:
            if on_progress is not None:
                on_progress(base + handled, len(entries))

        imported = await price_imports.import_price_list(
            domain.uow,
            currency,
            _price_rows(rows),
            channel=channel,
            effective_from=effective_from,
            max_change_percent=domain.max_price_change_percent,
            sales=domain.sales,
            batch_size=batch_size,
            on_progress=progress,
        )
        done += len(rows)
        report.changed += imported.changed
        report.unchanged += imported.unchanged
        report.held += imported.held
        report.rejected.extend((names[channel], row) for row in imported.rejected)
    if on_progress is not None:
        on_progress(len(entries), len(entries))
    return report


def _price_rows(entries: Sequence[PriceListEntry]) -> list[price_imports.PriceRow]:
    return [
        price_imports.PriceRow(e.sku, e.currency, e.unit_price, e.effective_from) for e in entries
    ]
