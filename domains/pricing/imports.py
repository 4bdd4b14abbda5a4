"""Batch imports from the ERP: the SKU facts pricing needs, and base price lists.

A bad row never stops an import: it is rejected with a code and a reason, and the report
lists it. Each batch is one transaction, so a crash loses at most the batch in flight and
a rerun is harmless (unchanged prices record nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from adapters.metrics.counters import count_import_rejects
from domains.pricing.errors import InvalidAmount, PricingError
from domains.pricing.model import check_channel, check_currency, parse_amount
from domains.pricing.ports import UnitOfWork
from domains.pricing.tables import ALL_CHANNELS
from kernel.channels import DEFAULT_SALES, SalesVocabulary
from kernel.event_types import PriceChanged, SkuPricingChanged
from kernel.events import Event

FEED = "prices"  # the import-rejects KPI's feed label

UnitOfWorkFactory = Callable[[], UnitOfWork]
Progress = Callable[[int, int], None]  # (rows done, rows in all)


@dataclass(frozen=True, slots=True)
class SkuFacts:
    sku: str
    category: str | None
    tax_rate: Decimal


@dataclass(frozen=True, slots=True)
class PriceRow:
    sku: str
    currency: str
    amount: str | Decimal


@dataclass(frozen=True, slots=True)
class RejectedRow:
    index: int
    sku: str
    code: str
    reason: str


@dataclass
class ImportReport:
    received: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.changed + self.unchanged


async def register_skus(uow: UnitOfWork, facts: Sequence[SkuFacts]) -> int:
    """Record each SKU's category and tax rate (pricing's own copy); returns how many changed."""
    for fact in facts:
        if not fact.sku or len(fact.sku) > 64:
            raise PricingError(f"invalid SKU {fact.sku!r}", code="INVALID_SKU")
        if not (0 <= fact.tax_rate < 1):
            raise PricingError(
                f"tax rate {fact.tax_rate} of {fact.sku} must be in [0, 1)", code="INVALID_TAX_RATE"
            )
    latest = {f.sku: f for f in facts}
    async with uow:
        known = await uow.prices.known_skus(latest)
        changed = [f for f in latest.values() if known.get(f.sku) != (f.category, f.tax_rate)]
        await uow.prices.save_skus(
            [(f.sku, f.category, f.tax_rate) for f in changed], known, uow.clock.now()
        )
        for fact in changed:
            if fact.sku in known:
                repriced = SkuPricingChanged(
                    sku=fact.sku, category=fact.category, tax_rate=fact.tax_rate
                )
                uow.record(Event.of(repriced, partition_key=fact.sku, occurred_at=uow.clock.now()))
        await uow.commit()
    return len(changed)


async def import_price_list(
    new_uow: UnitOfWorkFactory,
    currency: str,
    rows: Sequence[PriceRow],
    *,
    channel: str | None = None,
    sales: SalesVocabulary = DEFAULT_SALES,
    batch_size: int = 500,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Import one price list (a currency the retailer prices in, for every channel or one
    channel's override)."""
    check_currency(currency, sales)
    list_channel = ALL_CHANNELS if channel is None else check_channel(channel, sales)
    report = ImportReport(received=len(rows))
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        rejected_before = len(report.rejected)
        await _import_batch(new_uow(), currency, list_channel, batch, start, report)
        count_import_rejects(FEED, (r.code for r in report.rejected[rejected_before:]))
        if on_progress is not None:
            on_progress(min(start + batch_size, len(rows)), len(rows))
    return report


async def _import_batch(
    uow: UnitOfWork,
    currency: str,
    channel: str,
    batch: Sequence[PriceRow],
    offset: int,
    report: ImportReport,
) -> None:
    valid: dict[str, tuple[int, Decimal]] = {}
    for index, row in enumerate(batch, start=offset):
        problem = _check_row(row, currency, valid)
        if isinstance(problem, RejectedRow):
            report.rejected.append(replace_index(problem, index))
        else:
            valid[row.sku] = (index, problem)
    async with uow:
        known = await uow.prices.known_skus(valid)
        for sku, (index, _) in list(valid.items()):
            if sku not in known:
                report.rejected.append(
                    RejectedRow(index, sku, "UNKNOWN_SKU", f"pricing does not know SKU {sku!r}")
                )
                del valid[sku]
        current = await uow.prices.list_prices(currency, channel, valid)
        changes = {sku: amount for sku, (_, amount) in valid.items() if current.get(sku) != amount}
        await uow.prices.save_prices(currency, channel, changes, current, uow.clock.now())
        for sku, amount in changes.items():
            old = current.get(sku)
            price_changed = PriceChanged(
                sku=sku, currency=currency, channel=channel, old_amount=old, new_amount=amount
            )
            uow.record(Event.of(price_changed, partition_key=sku, occurred_at=uow.clock.now()))
        await uow.commit()
    report.changed += len(changes)
    report.unchanged += len(valid) - len(changes)
    report.rejected.sort(key=lambda r: r.index)


def replace_index(row: RejectedRow, index: int) -> RejectedRow:
    return RejectedRow(index, row.sku, row.code, row.reason)


def _check_row(
    row: PriceRow, currency: str, seen: dict[str, tuple[int, Decimal]]
) -> RejectedRow | Decimal:
    sku = row.sku if isinstance(row.sku, str) else ""
    if not sku or len(sku) > 64:
        return RejectedRow(0, sku, "INVALID_SKU", "the SKU is missing or too long")
    if row.currency != currency:
        return RejectedRow(
            0, sku, "CURRENCY_MISMATCH", f"row is in {row.currency}, the list is in {currency}"
        )
    try:
        amount = parse_amount(row.amount)
    except InvalidAmount as error:
        return RejectedRow(0, sku, "INVALID_AMOUNT", error.message)
    if amount < 0:
        return RejectedRow(0, sku, "NEGATIVE_PRICE", f"price {amount} is negative")
    if sku in seen:
        return RejectedRow(0, sku, "DUPLICATE_SKU", "the SKU appears twice in the price list")
    return amount
