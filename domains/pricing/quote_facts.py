"""What a quote reads, in one statement: the lines' price histories, the live
promotions, and the low-stock pauses of the lines' SKUs in the customer's region.

Three reads made one: a ``UNION ALL`` whose rows say which read they belong to
(``part``), each part filling its own columns and leaving the others NULL. One
statement is one snapshot of the database, so the quote needs no transaction around
it (``adapters.db.engine.one_statement``): on PostgreSQL one round trip where the
three reads in a transaction took five (BEGIN, three SELECTs, ROLLBACK).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, cast, literal, null, select, union_all

from domains.pricing import tables
from domains.pricing.model import Offer
from domains.pricing.repository import (
    PriceKey,
    SkuPrice,
    live_terms,
    offers_from,
    price_history,
    sku_prices_from,
)

_PRICE, _OFFER, _PAUSE = "price", "offer", "pause"
# Each part's columns, in the union's order; a part's missing ones are typed NULLs.
_COLUMNS: dict[str, Any] = {
    "sku": String(),
    "category": String(),
    "tax_rate": String(),
    "currency": String(),
    "channel": String(),
    "effective_from": DateTime(timezone=True),
    "amount": String(),
    "promotion_id": String(),
    "terms": JSON(),
}


@dataclass(frozen=True, slots=True)
class QuoteFacts:
    """What pricing knows for one quote, as of one moment of the database."""

    prices: dict[PriceKey, SkuPrice]
    offers: list[Offer]
    # (promotion id, sku) of the promotions paused for a SKU's low stock in the region
    paused: set[tuple[str, str]]


async def fetch_quote_facts(
    db: Any, keys: Sequence[PriceKey], at: datetime, region: str | None
) -> QuoteFacts:
    """The prices of ``keys`` at ``at``, the live offers and, with a ``region``, the
    pauses there of the keys' SKUs: one statement."""
    parts = [
        _part(_PRICE, price_history(keys)) if keys else None,
        _part(_OFFER, live_terms()),
        _part(_PAUSE, _pauses({key[0] for key in keys}, region)) if region and keys else None,
    ]
    rows = (await db.execute(union_all(*[part for part in parts if part is not None]))).all()
    by_part: dict[str, list[Any]] = {_PRICE: [], _OFFER: [], _PAUSE: []}
    for row in rows:
        by_part[row.part].append(row)
    return QuoteFacts(
        prices=sku_prices_from(by_part[_PRICE], keys, at) if keys else {},
        offers=offers_from(by_part[_OFFER]),
        paused={(row.promotion_id, row.sku) for row in by_part[_PAUSE]},
    )


def _pauses(skus: set[str], region: str) -> Any:
    sp = tables.stock_pauses
    return select(sp.c.promotion_id, sp.c.sku).where(
        sp.c.sku.in_(sorted(skus)), sp.c.region == region
    )


def _part(name: str, query: Any) -> Any:
    """``query``'s columns in the union's shape, its rows marked ``name``."""
    own = {column.key: column for column in query.selected_columns}
    columns = [literal(name, String()).label("part")]
    for key, kind in _COLUMNS.items():
        column = own[key] if key in own else cast(null(), kind)
        columns.append(column.label(key))
    return query.with_only_columns(*columns)
