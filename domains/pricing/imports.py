"""Batch imports from the ERP: the SKU facts pricing needs, and base price lists.

A bad row never stops an import: it is rejected with a code and a reason, and the report
lists it. Each batch is one transaction, so a crash loses at most the batch in flight and
a rerun is harmless (unchanged prices record nothing).

Prices are effective-dated: a row takes effect at the moment the import names (its own,
else the list's, else now). A moment already past takes effect now, so the history says
what was charged when and is never rewritten; only a SKU's first all-channel price may
be dated back (before it, no channel without a price of its own was charged anything).

A row that moves the price in effect by more than ``max_change_percent`` is not applied:
it is held for an operator (``HELD_FOR_APPROVAL``), who approves it (applied then, once)
or discards it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from adapters.metrics.counters import count_import_rejects
from domains.pricing.errors import (
    HeldChangeDecided,
    HeldChangeNotFound,
    InvalidAmount,
    PricingError,
)
from domains.pricing.model import (
    DEFAULT_MAX_PRICE_CHANGE_PERCENT,
    HeldPriceChange,
    HeldStatus,
    as_utc,
    check_channel,
    check_currency,
    needs_approval,
    parse_amount,
    price_change_percent,
)
from domains.pricing.ports import UnitOfWork
from domains.pricing.tables import ALL_CHANNELS
from kernel.channels import DEFAULT_SALES, SalesVocabulary
from kernel.event_types import PriceChanged, PriceScheduled, SkuPricingChanged
from kernel.events import Event

FEED = "prices"  # the import-rejects KPI's feed label
END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)  # later than any price's moment

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
    effective_from: datetime | None = None  # None: the list's moment (default: now)


HELD_FOR_APPROVAL = "HELD_FOR_APPROVAL"
MAX_HELD_DECISION = 500  # held changes one approval or discard names


@dataclass(frozen=True, slots=True)
class RejectedRow:
    index: int
    sku: str
    code: str
    reason: str
    held_id: str | None = None  # the held change an operator approves or discards


@dataclass
class ImportReport:
    received: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.changed + self.unchanged

    @property
    def held(self) -> int:
        return sum(1 for row in self.rejected if row.code == HELD_FOR_APPROVAL)


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
    effective_from: datetime | None = None,
    max_change_percent: Decimal = DEFAULT_MAX_PRICE_CHANGE_PERCENT,
    sales: SalesVocabulary = DEFAULT_SALES,
    batch_size: int = 500,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Import one price list (a currency the retailer prices in, for every channel or one
    channel's override), in effect from ``effective_from`` (now when None or past) unless a
    row names its own."""
    check_currency(currency, sales)
    list_channel = ALL_CHANNELS if channel is None else check_channel(channel, sales)
    report = ImportReport(received=len(rows))
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        rejected_before = len(report.rejected)
        await _import_batch(
            new_uow(),
            _PriceList(currency, list_channel, effective_from, max_change_percent),
            batch,
            start,
            report,
        )
        count_import_rejects(FEED, (r.code for r in report.rejected[rejected_before:]))
        if on_progress is not None:
            on_progress(min(start + batch_size, len(rows)), len(rows))
    report.rejected.sort(key=lambda r: r.index)
    return report


@dataclass(frozen=True, slots=True)
class _PriceList:
    currency: str
    channel: str
    effective_from: datetime | None
    max_change_percent: Decimal


def _moment(asked: datetime | None, now: datetime, *, first: bool = False) -> datetime:
    """When a price takes effect: the moment asked for, or now if that is past (unless
    it is the first price of its list, which rewrites nothing)."""
    if asked is None:
        return now
    return as_utc(asked) if first else max(as_utc(asked), now)


async def _import_batch(
    uow: UnitOfWork,
    price_list: _PriceList,
    batch: Sequence[PriceRow],
    offset: int,
    report: ImportReport,
) -> None:
    currency, channel = price_list.currency, price_list.channel
    valid: dict[str, tuple[int, Decimal, datetime | None]] = {}
    for index, row in enumerate(batch, start=offset):
        problem = _check_row(row, currency, valid)
        if isinstance(problem, RejectedRow):
            report.rejected.append(replace(problem, index=index))
        else:
            valid[row.sku] = (index, problem, row.effective_from or price_list.effective_from)
    async with uow:
        now = uow.clock.now()
        known = await uow.prices.known_skus(valid)
        for sku, (index, _, _) in list(valid.items()):
            if sku not in known:
                report.rejected.append(
                    RejectedRow(index, sku, "UNKNOWN_SKU", f"pricing does not know SKU {sku!r}")
                )
                del valid[sku]
        dated_back = [s for s, (_, _, a) in valid.items() if a is not None and as_utc(a) < now]
        priced = set(await uow.prices.list_prices(currency, channel, dated_back, END_OF_TIME))
        by_moment: dict[datetime, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
        for sku, (index, amount, asked) in valid.items():
            # A channel without its own price paid the all-channel one: only a first
            # all-channel price leaves every past answer as it was.
            first = channel == ALL_CHANNELS and sku not in priced
            moment = _moment(asked, now, first=first)
            by_moment[moment][sku] = (index, amount)
        held = await uow.prices.held_like(currency, channel, valid)
        changed = held_here = 0
        for moment, rows in sorted(by_moment.items()):
            own = await uow.prices.list_prices(currency, channel, rows, moment)
            paid = await uow.prices.sku_prices([(sku, channel, currency) for sku in rows], moment)
            changes: dict[str, Decimal] = {}
            to_hold: list[HeldPriceChange] = []
            for sku, (index, amount) in rows.items():
                if own.get(sku) == amount:
                    continue
                in_effect = paid[(sku, channel, currency)].amount
                if in_effect is not None and needs_approval(
                    in_effect, amount, price_list.max_change_percent
                ):
                    held_id = held.get((sku, amount))
                    if held_id is None:
                        held_id = str(uuid.uuid4())
                        to_hold.append(
                            HeldPriceChange(
                                held_id,
                                sku,
                                currency,
                                channel,
                                in_effect,
                                amount,
                                None if moment == now else moment,
                                HeldStatus.HELD,
                                now,
                            )
                        )
                    report.rejected.append(
                        _held_reject(index, sku, in_effect, amount, price_list, held_id)
                    )
                    held_here += 1
                    continue
                changes[sku] = amount
            await uow.prices.hold_changes(to_hold)
            await apply_prices(uow, currency, channel, changes, own, moment)
            changed += len(changes)
        await uow.commit()
    report.changed += changed
    report.unchanged += len(valid) - changed - held_here


def _held_reject(
    index: int, sku: str, old: Decimal, new: Decimal, price_list: _PriceList, held_id: str
) -> RejectedRow:
    percent = price_change_percent(old, new)
    size = "from zero" if percent is None else f"by {percent.quantize(Decimal('0.1'))}%"
    reason = (
        f"{old} -> {new} moves the price {size}, more than the "
        f"{price_list.max_change_percent}% an import may apply: held as {held_id} "
        "for an operator to approve or discard"
    )
    return RejectedRow(index, sku, HELD_FOR_APPROVAL, reason, held_id)


async def apply_prices(
    uow: UnitOfWork,
    currency: str,
    channel: str,
    changes: dict[str, Decimal],
    before: dict[str, Decimal],
    moment: datetime,
) -> None:
    """Add ``changes`` to one list's history from ``moment`` and record what they mean:
    ``PriceChanged`` for a price in effect now, ``PriceScheduled`` for a later one (its
    ``PriceChanged`` comes when the moment does)."""
    now = uow.clock.now()
    await uow.prices.save_prices(currency, channel, changes, moment, now)
    for sku, amount in changes.items():
        payload: PriceChanged | PriceScheduled
        if moment <= now:
            payload = PriceChanged(
                sku=sku,
                currency=currency,
                channel=channel,
                old_amount=before.get(sku),
                new_amount=amount,
            )
        else:
            payload = PriceScheduled(
                sku=sku, currency=currency, channel=channel, amount=amount, effective_from=moment
            )
        uow.record(Event.of(payload, partition_key=sku, occurred_at=now))


async def approve_held_changes(uow: UnitOfWork, ids: Sequence[str]) -> list[HeldPriceChange]:
    """Apply held price changes, each once: from its own moment, or now if that is past
    (or it had none). Approving one approved already changes nothing; one discarded is
    refused, as is an id nobody holds."""
    return await _decide(uow, ids, HeldStatus.APPROVED)


async def discard_held_changes(uow: UnitOfWork, ids: Sequence[str]) -> list[HeldPriceChange]:
    """Drop held price changes unapplied; discarding one discarded already changes nothing."""
    return await _decide(uow, ids, HeldStatus.DISCARDED)


async def _decide(
    uow: UnitOfWork, ids: Sequence[str], decision: HeldStatus
) -> list[HeldPriceChange]:
    wanted = list(dict.fromkeys(ids))
    if not wanted or len(wanted) > MAX_HELD_DECISION:
        raise PricingError(
            f"name 1 to {MAX_HELD_DECISION} held changes", code="INVALID_HELD_CHANGES"
        )
    async with uow:
        now = uow.clock.now()
        found = {change.id: change for change in await uow.prices.held_changes(wanted)}
        decided: list[HeldPriceChange] = []
        for held_id in wanted:
            change = found.get(held_id)
            if change is None:
                raise HeldChangeNotFound(f"no price change is held as {held_id!r}", id=held_id)
            if change.status is decision:
                decided.append(change)
                continue
            if change.status is not HeldStatus.HELD:
                raise HeldChangeDecided(
                    f"held change {held_id} was {change.status} already",
                    id=held_id,
                    status=str(change.status),
                )
            if decision is HeldStatus.APPROVED:
                moment = _moment(change.effective_from, now)
                before = await uow.prices.list_prices(
                    change.currency, change.channel, [change.sku], moment
                )
                changes = {change.sku: change.new_amount}
                await apply_prices(uow, change.currency, change.channel, changes, before, moment)
            await uow.prices.decide_held(held_id, decision, now)
            decided.append(replace(change, status=decision, decided_at=now))
        await uow.commit()
    return decided


async def announce_due_prices(
    new_uow: UnitOfWorkFactory, *, at: datetime | None = None, limit: int = 1000
) -> int:
    """Announce the scheduled prices whose moment has come: each as ``PriceChanged``
    (its old amount: the list's price just before), claimed in the transaction that
    records it, so across replicas and restarts each is announced once. Returns how
    many this call announced."""
    uow = new_uow()
    now = as_utc(at or uow.clock.now())
    announced = 0
    async with uow:
        for due in await uow.prices.due_prices(now, limit):
            if not await uow.prices.claim_price(due, now):
                continue
            just_before = due.effective_from - timedelta(microseconds=1)
            before = await uow.prices.list_prices(due.currency, due.channel, [due.sku], just_before)
            changed = PriceChanged(
                sku=due.sku,
                currency=due.currency,
                channel=due.channel,
                old_amount=before.get(due.sku),
                new_amount=due.amount,
            )
            uow.record(Event.of(changed, partition_key=due.sku, occurred_at=due.effective_from))
            announced += 1
        await uow.commit()
    return announced


def _check_row(
    row: PriceRow, currency: str, seen: dict[str, tuple[int, Decimal, datetime | None]]
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
