"""Reading and writing pricing's tables. The ``fetch_*`` functions each run ONE statement
and take a session or a connection, so loaders, read models and the repository share them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domains.pricing import tables
from domains.pricing.model import (
    HeldPriceChange,
    HeldStatus,
    Lifecycle,
    Offer,
    Promotion,
    PromotionVersion,
    Window,
    WindowTransition,
    as_utc,
)
from domains.pricing.serialization import terms_from_dict, terms_to_dict


@dataclass(frozen=True, slots=True)
class SkuPrice:
    """What pricing knows about one SKU in one (channel, currency) at a moment: ``amount``
    is None when the SKU is known but has no price in that currency then. The answer
    holds from ``since`` (None: from the start) until ``until`` (None: no change is
    scheduled), so a cached copy is good for exactly that span."""

    sku: str
    category: str | None
    tax_rate: Decimal
    amount: Decimal | None
    since: datetime | None = None
    until: datetime | None = None

    def holds_at(self, at: datetime) -> bool:
        return (self.since is None or self.since <= at) and (self.until is None or at < self.until)


PriceKey = tuple[str, str, str]  # (sku, channel, currency)
Timeline = list[tuple[datetime, Decimal]]  # (effective from, amount), oldest first


def _in_effect(
    timeline: Timeline, at: datetime
) -> tuple[Decimal | None, datetime | None, datetime | None]:
    """(amount in effect at ``at``, since when, when the next row takes over)."""
    amount: Decimal | None = None
    since: datetime | None = None
    for effective_from, value in timeline:
        if effective_from > at:
            return amount, since, effective_from
        amount, since = value, effective_from
    return amount, since, None


def resolve_price(
    own: Timeline, shared: Timeline, at: datetime
) -> tuple[Decimal | None, datetime | None, datetime | None]:
    """A channel's base price at ``at``: its own list's row in effect, else the all-channel
    list's; with the span over which that answer holds (either list changing ends it)."""
    own_amount, own_since, own_next = _in_effect(own, at)
    shared_amount, shared_since, shared_next = _in_effect(shared, at)
    amount = own_amount if own_amount is not None else shared_amount
    sinces = [moment for moment in (own_since, shared_since) if moment is not None]
    nexts = [moment for moment in (own_next, shared_next) if moment is not None]
    return amount, max(sinces, default=None), min(nexts, default=None)


async def fetch_sku_prices(
    db: Any, keys: Sequence[PriceKey], at: datetime
) -> dict[PriceKey, SkuPrice]:
    """Base prices in effect at ``at`` for (sku, channel, currency) keys; a channel's own
    price beats the list's. One statement, the SKUs' whole price history included."""
    if not keys:
        return {}
    rows = (await db.execute(PRICE_HISTORY, price_history_params(keys))).all()
    return sku_prices_from(rows, keys, at)


# Built once, with expanding parameters (a statement's text depends only on how many
# SKUs and currencies it gets): checkout's quote reads it on every order, and building
# it per call cost CPU there (``quote_facts``).
_bp = tables.base_prices
PRICE_HISTORY: Select[Any] = (
    select(
        tables.skus.c.sku,
        tables.skus.c.category,
        tables.skus.c.tax_rate,
        _bp.c.currency,
        _bp.c.channel,
        _bp.c.effective_from,
        _bp.c.amount,
    )
    .select_from(
        tables.skus.outerjoin(
            _bp,
            and_(
                _bp.c.sku == tables.skus.c.sku,
                _bp.c.currency.in_(bindparam("currencies", expanding=True)),
            ),
        )
    )
    .where(tables.skus.c.sku.in_(bindparam("skus", expanding=True)))
)
"""Each SKU of ``skus`` with every base price it has had in ``currencies`` (none: one
row of NULLs), in no particular order."""


def price_history_params(keys: Sequence[PriceKey]) -> dict[str, list[str]]:
    """``PRICE_HISTORY``'s parameters for ``keys``: their SKUs and currencies, each once."""
    return {
        "skus": sorted({key[0] for key in keys}),
        "currencies": sorted({key[2] for key in keys}),
    }


def sku_prices_from(
    rows: Iterable[Any], keys: Sequence[PriceKey], at: datetime
) -> dict[PriceKey, SkuPrice]:
    """The prices of ``keys`` at ``at`` from ``PRICE_HISTORY``'s rows."""
    at = as_utc(at)
    facts: dict[str, tuple[str | None, Decimal]] = {}
    timelines: dict[tuple[str, str, str], Timeline] = {}
    for row in rows:
        facts[row.sku] = (row.category, Decimal(row.tax_rate))
        if row.currency is not None:
            timelines.setdefault((row.sku, row.channel, row.currency), []).append(
                (as_utc(row.effective_from), Decimal(row.amount))
            )
    for timeline in timelines.values():
        timeline.sort()  # oldest first; one row per moment (the key holds it)
    found: dict[PriceKey, SkuPrice] = {}
    for sku, channel, currency in keys:
        if sku not in facts:
            continue
        category, tax_rate = facts[sku]
        own = timelines.get((sku, channel, currency), [])
        shared = timelines.get((sku, tables.ALL_CHANNELS, currency), [])
        amount, since, until = resolve_price(own, shared, at)
        found[(sku, channel, currency)] = SkuPrice(sku, category, tax_rate, amount, since, until)
    return found


@dataclass(frozen=True, slots=True)
class ScheduledPrice:
    """A price list row whose moment has come and whose change is not announced yet."""

    sku: str
    currency: str
    channel: str
    effective_from: datetime
    amount: Decimal


def _held(row: Any) -> HeldPriceChange:
    return HeldPriceChange(
        id=row.id,
        sku=row.sku,
        currency=row.currency,
        channel=row.channel,
        old_amount=Decimal(row.old_amount),
        new_amount=Decimal(row.new_amount),
        effective_from=None if row.effective_from is None else as_utc(row.effective_from),
        status=HeldStatus(row.status),
        held_at=as_utc(row.held_at),
        decided_at=None if row.decided_at is None else as_utc(row.decided_at),
    )


async def fetch_held_changes(
    db: Any, status: HeldStatus | None, *, first: int, ids: Sequence[str] | None = None
) -> list[HeldPriceChange]:
    """Held price changes, oldest first: those with ``status`` (any for None), or ``ids``."""
    h = tables.held_price_changes
    query = select(h).order_by(h.c.held_at, h.c.id).limit(first)
    if status is not None:
        query = query.where(h.c.status == str(status))
    if ids is not None:
        query = query.where(h.c.id.in_(sorted(set(ids))))
    return [_held(row) for row in (await db.execute(query)).all()]


async def fetch_live_offers(db: Any) -> list[Offer]:
    """The current terms of every live promotion (in force, scheduled or ended by now)."""
    rows = (await db.execute(LIVE_TERMS)).all()
    return offers_from(rows)


_p, _v = tables.promotions, tables.promotion_versions
LIVE_TERMS: Select[Any] = (
    select(_v.c.promotion_id, _v.c.terms)
    .select_from(
        _p.join(_v, and_(_v.c.promotion_id == _p.c.id, _v.c.number == _p.c.current_version))
    )
    .where(_p.c.lifecycle == str(Lifecycle.LIVE))
)
"""(promotion_id, terms) of the current version of every live promotion, in no
particular order."""


def offers_from(rows: Iterable[Any]) -> list[Offer]:
    """``LIVE_TERMS``' rows as offers, by promotion id."""
    ordered = sorted(rows, key=lambda row: str(row.promotion_id))
    return [Offer(row.promotion_id, terms_from_dict(row.terms)) for row in ordered]


async def fetch_promotions(db: Any, ids: Sequence[str] | None) -> dict[str, Promotion]:
    """Whole promotions, every version included, in one statement (all of them for None)."""
    if ids is not None and not ids:
        return {}
    p, v = tables.promotions, tables.promotion_versions
    query = (
        select(
            p.c.id,
            p.c.lifecycle,
            p.c.current_version,
            p.c.rolled_back,
            v.c.number,
            v.c.terms,
            v.c.published_at,
        )
        .select_from(p.join(v, v.c.promotion_id == p.c.id))
        .order_by(p.c.id, v.c.number)
    )
    if ids is not None:
        query = query.where(p.c.id.in_(sorted(set(ids))))
    rows = (await db.execute(query)).all()
    versions: dict[str, list[PromotionVersion]] = {}
    heads: dict[str, Any] = {}
    for row in rows:
        heads[row.id] = row
        versions.setdefault(row.id, []).append(
            PromotionVersion(row.number, terms_from_dict(row.terms), as_utc(row.published_at))
        )
    return {
        promotion_id: Promotion(
            id=promotion_id,
            lifecycle=Lifecycle(head.lifecycle),
            versions=tuple(versions[promotion_id]),
            current_version=head.current_version,
            rolled_back=head.rolled_back,
        )
        for promotion_id, head in heads.items()
    }


async def fetch_stock_pauses(
    db: Any, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], frozenset[str]]:
    """The promotions paused for low stock per (sku, region), in one statement."""
    if not keys:
        return {}
    sp = tables.stock_pauses
    rows = await db.execute(
        select(sp.c.promotion_id, sp.c.sku, sp.c.region).where(
            sp.c.sku.in_(sorted({sku for sku, _ in keys})),
            sp.c.region.in_(sorted({region for _, region in keys})),
        )
    )
    paused: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        paused.setdefault((row.sku, row.region), set()).add(row.promotion_id)
    return {key: frozenset(paused.get(key, ())) for key in keys}


@dataclass(frozen=True, slots=True)
class StockPause:
    promotion_id: str
    sku: str
    region: str
    available: int
    paused_at: datetime


async def fetch_pauses_by_promotion(
    db: Any, promotion_ids: Sequence[str], first: int
) -> dict[str, list[StockPause]]:
    """The newest ``first`` low-stock pauses of each promotion, in one statement."""
    if not promotion_ids:
        return {}
    sp = tables.stock_pauses
    newest = func.row_number().over(
        partition_by=sp.c.promotion_id, order_by=(sp.c.paused_at.desc(), sp.c.sku, sp.c.region)
    )
    ranked = (
        select(sp, newest.label("rank"))
        .where(sp.c.promotion_id.in_(sorted(set(promotion_ids))))
        .subquery()
    )
    rows = await db.execute(
        select(ranked).where(ranked.c.rank <= first).order_by(ranked.c.promotion_id, ranked.c.rank)
    )
    found: dict[str, list[StockPause]] = {promotion_id: [] for promotion_id in promotion_ids}
    for row in rows:
        found[row.promotion_id].append(
            StockPause(row.promotion_id, row.sku, row.region, row.available, as_utc(row.paused_at))
        )
    return found


@dataclass(frozen=True, slots=True)
class WindowState:
    """A live promotion's current version, its window, and the transitions of that
    window announced so far."""

    promotion_id: str
    version: int
    window: Window
    announced: frozenset[WindowTransition]


async def fetch_open_windows(db: Any, at: datetime) -> list[WindowState]:
    """The live promotions whose current window has started by ``at`` and whose end has
    not been announced: the only ones with a transition left to announce (two statements,
    however many promotions have ended)."""
    p, v, t = tables.promotions, tables.promotion_versions, tables.window_transitions
    end_announced = exists().where(
        t.c.promotion_id == p.c.id,
        t.c.version == v.c.number,
        t.c.transition == str(WindowTransition.ENDED),
    )
    rows = (
        await db.execute(
            select(p.c.id, v.c.number, v.c.starts_at, v.c.ends_at)
            .select_from(
                p.join(v, and_(v.c.promotion_id == p.c.id, v.c.number == p.c.current_version))
            )
            .where(p.c.lifecycle == str(Lifecycle.LIVE), v.c.starts_at <= at, ~end_announced)
            .order_by(p.c.id)
        )
    ).all()
    if not rows:
        return []
    claimed = await db.execute(
        select(t.c.promotion_id, t.c.version, t.c.transition).where(
            t.c.promotion_id.in_([row.id for row in rows])
        )
    )
    announced: dict[tuple[str, int], set[WindowTransition]] = {}
    for row in claimed:
        announced.setdefault((row.promotion_id, row.version), set()).add(
            WindowTransition(row.transition)
        )
    return [
        WindowState(
            row.id,
            row.number,
            Window(as_utc(row.starts_at), as_utc(row.ends_at)),
            frozenset(announced.get((row.id, row.number), ())),
        )
        for row in rows
    ]


class PricingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sku_prices(self, keys: Sequence[PriceKey], at: datetime) -> dict[PriceKey, SkuPrice]:
        return await fetch_sku_prices(self.session, keys, at)

    async def live_offers(self) -> list[Offer]:
        return await fetch_live_offers(self.session)

    async def known_skus(self, skus: Iterable[str]) -> dict[str, tuple[str | None, Decimal]]:
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        rows = (
            await self.session.execute(
                select(tables.skus.c.sku, tables.skus.c.category, tables.skus.c.tax_rate).where(
                    tables.skus.c.sku.in_(wanted)
                )
            )
        ).all()
        return {row.sku: (row.category, Decimal(row.tax_rate)) for row in rows}

    async def save_skus(
        self,
        rows: Sequence[tuple[str, str | None, Decimal]],
        existing: Iterable[str],
        now: datetime,
    ) -> None:
        known = set(existing)
        new = [
            {"sku": s, "category": c, "tax_rate": str(r), "updated_at": now}
            for s, c, r in rows
            if s not in known
        ]
        if new:
            await self.session.execute(insert(tables.skus), new)
        for sku, category, rate in (r for r in rows if r[0] in known):
            await self.session.execute(
                update(tables.skus)
                .where(tables.skus.c.sku == sku)
                .values(category=category, tax_rate=str(rate), updated_at=now)
            )

    async def list_prices(
        self, currency: str, channel: str, skus: Iterable[str], at: datetime
    ) -> dict[str, Decimal]:
        """The amounts of one price list (currency, channel) in effect at ``at``."""
        bp = tables.base_prices
        rows = (
            await self.session.execute(
                select(bp.c.sku, bp.c.amount)
                .where(
                    bp.c.currency == currency,
                    bp.c.channel == channel,
                    bp.c.sku.in_(sorted(set(skus))),
                    bp.c.effective_from <= at,
                )
                .order_by(bp.c.effective_from)
            )
        ).all()
        return {row.sku: Decimal(row.amount) for row in rows}  # the latest row wins

    async def save_prices(
        self,
        currency: str,
        channel: str,
        changes: dict[str, Decimal],
        effective_from: datetime,
        now: datetime,
    ) -> None:
        """Add each new amount to the list's history from ``effective_from``; a row for the
        same moment (a scheduled price corrected before it takes effect) is replaced. A
        price in effect at once is announced now; a scheduled one when its moment comes."""
        if not changes:
            return
        connection = await self.session.connection()
        upsert: Any = (
            postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        )
        bp = tables.base_prices
        announced = now if effective_from <= now else None
        statement = upsert(bp)
        statement = statement.on_conflict_do_update(
            index_elements=["sku", "currency", "channel", "effective_from"],
            set_={
                "amount": statement.excluded.amount,
                "updated_at": statement.excluded.updated_at,
                "announced_at": statement.excluded.announced_at,
            },
        )
        await self.session.execute(
            statement,
            [
                {
                    "sku": sku,
                    "currency": currency,
                    "channel": channel,
                    "effective_from": effective_from,
                    "amount": str(amount),
                    "updated_at": now,
                    "announced_at": announced,
                }
                for sku, amount in changes.items()
            ],
        )

    async def due_prices(self, at: datetime, limit: int) -> list[ScheduledPrice]:
        """Scheduled prices in effect by ``at`` whose change is not announced yet."""
        bp = tables.base_prices
        rows = await self.session.execute(
            select(bp.c.sku, bp.c.currency, bp.c.channel, bp.c.effective_from, bp.c.amount)
            .where(bp.c.announced_at.is_(None), bp.c.effective_from <= at)
            .order_by(bp.c.effective_from, bp.c.sku, bp.c.currency, bp.c.channel)
            .limit(limit)
        )
        return [
            ScheduledPrice(
                row.sku, row.currency, row.channel, as_utc(row.effective_from), Decimal(row.amount)
            )
            for row in rows
        ]

    async def claim_price(self, due: ScheduledPrice, at: datetime) -> bool:
        """Mark a scheduled price announced, once: False when someone claimed it already."""
        bp = tables.base_prices
        claimed = await self.session.execute(
            update(bp)
            .where(
                bp.c.sku == due.sku,
                bp.c.currency == due.currency,
                bp.c.channel == due.channel,
                bp.c.effective_from == due.effective_from,
                bp.c.announced_at.is_(None),
            )
            .values(announced_at=at)
        )
        return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]

    async def held_like(
        self, currency: str, channel: str, skus: Iterable[str]
    ) -> dict[tuple[str, Decimal], str]:
        """The changes of this list still held, by (sku, new amount): their ids."""
        h = tables.held_price_changes
        rows = await self.session.execute(
            select(h.c.id, h.c.sku, h.c.new_amount).where(
                h.c.status == str(HeldStatus.HELD),
                h.c.sku.in_(sorted(set(skus))),
                h.c.currency == currency,
                h.c.channel == channel,
            )
        )
        return {(row.sku, Decimal(row.new_amount)): row.id for row in rows}

    async def hold_changes(self, changes: Sequence[HeldPriceChange]) -> None:
        if not changes:
            return
        await self.session.execute(
            insert(tables.held_price_changes),
            [
                {
                    "id": c.id,
                    "sku": c.sku,
                    "currency": c.currency,
                    "channel": c.channel,
                    "old_amount": str(c.old_amount),
                    "new_amount": str(c.new_amount),
                    "effective_from": c.effective_from,
                    "status": str(c.status),
                    "held_at": c.held_at,
                    "decided_at": c.decided_at,
                }
                for c in changes
            ],
        )

    async def held_changes(self, ids: Sequence[str]) -> list[HeldPriceChange]:
        """The held changes with these ids, locked for this transaction's decision."""
        h = tables.held_price_changes
        await self.session.execute(
            select(h.c.id).where(h.c.id.in_(sorted(set(ids)))).with_for_update()
        )
        return await fetch_held_changes(self.session, None, first=len(ids), ids=ids)

    async def decide_held(self, held_id: str, status: HeldStatus, at: datetime) -> None:
        h = tables.held_price_changes
        await self.session.execute(
            update(h).where(h.c.id == held_id).values(status=str(status), decided_at=at)
        )

    async def stock_paused(self, skus: Iterable[str], region: str) -> set[tuple[str, str]]:
        """(promotion id, sku) of the promotions paused for low stock in ``region``."""
        found = await fetch_stock_pauses(self.session, [(sku, region) for sku in set(skus)])
        return {(pid, sku) for (sku, _), ids in found.items() for pid in ids}

    async def pause_for_stock(
        self, promotion_id: str, sku: str, region: str, available: int, at: datetime
    ) -> None:
        await self.session.execute(
            insert(tables.stock_pauses).values(
                promotion_id=promotion_id, sku=sku, region=region, available=available, paused_at=at
            )
        )

    async def lift_stock_pause(self, promotion_id: str, sku: str, region: str) -> None:
        sp = tables.stock_pauses
        await self.session.execute(
            delete(sp).where(
                sp.c.promotion_id == promotion_id, sp.c.sku == sku, sp.c.region == region
            )
        )

    async def stock_pauses_of(self, promotion_id: str) -> list[tuple[str, str, int]]:
        """(sku, region, units when paused) of each low-stock pause of the promotion."""
        sp = tables.stock_pauses
        rows = await self.session.execute(
            select(sp.c.sku, sp.c.region, sp.c.available)
            .where(sp.c.promotion_id == promotion_id)
            .order_by(sp.c.sku, sp.c.region)
        )
        return [(row.sku, row.region, row.available) for row in rows]

    async def open_windows(self, at: datetime) -> list[WindowState]:
        return await fetch_open_windows(self.session, at)

    async def claim_transition(
        self, promotion_id: str, version: int, transition: WindowTransition, at: datetime
    ) -> bool:
        """Record the transition as announced; False when it was already (by anyone)."""
        connection = await self.session.connection()
        upsert: Any = (
            postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        )
        t = tables.window_transitions
        claimed = await self.session.execute(
            upsert(t)
            .values(
                promotion_id=promotion_id,
                version=version,
                transition=str(transition),
                announced_at=at,
            )
            .on_conflict_do_nothing(index_elements=["promotion_id", "version", "transition"])
            .returning(t.c.promotion_id)
        )
        return claimed.first() is not None

    async def get_promotion(self, promotion_id: str) -> Promotion | None:
        """The promotion, locked for this transaction's change.

        The lock is its own statement: on PostgreSQL a statement that waited for a lock
        does not see rows other transactions added meanwhile (their new versions), the
        next statement does.
        """
        await self.session.execute(
            select(tables.promotions.c.id)
            .where(tables.promotions.c.id == promotion_id)
            .with_for_update()
        )
        found = await fetch_promotions(self.session, [promotion_id])
        return found.get(promotion_id)

    async def add_promotion(self, promotion: Promotion, at: datetime) -> None:
        await self.session.execute(
            insert(tables.promotions).values(
                id=promotion.id,
                lifecycle=str(promotion.lifecycle),
                current_version=promotion.current_version,
                rolled_back=promotion.rolled_back,
                created_at=at,
                updated_at=at,
            )
        )
        await self._add_versions(promotion.id, promotion.versions)

    async def save_promotion(self, before: Promotion, after: Promotion, at: datetime) -> None:
        known = {v.number for v in before.versions}
        await self._add_versions(after.id, [v for v in after.versions if v.number not in known])
        await self.session.execute(
            update(tables.promotions)
            .where(tables.promotions.c.id == after.id)
            .values(
                lifecycle=str(after.lifecycle),
                current_version=after.current_version,
                rolled_back=after.rolled_back,
                updated_at=at,
            )
        )

    async def _add_versions(self, promotion_id: str, versions: Sequence[PromotionVersion]) -> None:
        if not versions:
            return
        await self.session.execute(
            insert(tables.promotion_versions),
            [
                {
                    "promotion_id": promotion_id,
                    "number": v.number,
                    "name": v.terms.name,
                    "starts_at": v.terms.window.starts_at,
                    "ends_at": v.terms.window.ends_at,
                    "terms": terms_to_dict(v.terms),
                    "published_at": v.published_at,
                }
                for v in versions
            ],
        )
