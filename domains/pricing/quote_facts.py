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

from sqlalchemy import (
    JSON,
    DateTime,
    String,
    bindparam,
    cast,
    literal,
    null,
    select,
    union_all,
)

from domains.pricing import tables
from domains.pricing.model import Offer
from domains.pricing.repository import (
    LIVE_TERMS,
    PRICE_HISTORY,
    PriceKey,
    SkuPrice,
    offers_from,
    price_history_params,
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
    params: dict[str, Any] = price_history_params(keys)
    statement = _FACTS
    if region:
        params["region"] = region
        statement = _FACTS_IN_REGION
    rows = (await db.execute(statement, params)).all()
    by_part: dict[str, list[Any]] = {_PRICE: [], _OFFER: [], _PAUSE: []}
    for row in rows:
        by_part[row.part].append(row)
    return QuoteFacts(
        prices=sku_prices_from(by_part[_PRICE], keys, at) if keys else {},
        offers=offers_from(by_part[_OFFER]),
        paused={(row.promotion_id, row.sku) for row in by_part[_PAUSE]},
    )


def _part(name: str, query: Any) -> Any:
    """``query``'s columns in the union's shape, its rows marked ``name``."""
    own = {column.key: column for column in query.selected_columns}
    columns = [literal(name, String()).label("part")]
    for key, kind in _COLUMNS.items():
        column = own[key] if key in own else cast(null(), kind)
        columns.append(column.label(key))
    return query.with_only_columns(*columns)


# Built once, with expanding parameters (``PRICE_HISTORY``'s ``skus`` and ``currencies``,
# the pauses' ``skus`` and ``region``): built per quote, the union's parts and its cache
# key took about a quarter of the pricing process's profile samples at 32 concurrent
# checkouts. With no keys the SKU lists are empty, and the price and pause parts find
# nothing.
_sp = tables.stock_pauses
_PAUSES = select(_sp.c.promotion_id, _sp.c.sku).where(
    _sp.c.sku.in_(bindparam("skus", expanding=True)), _sp.c.region == bindparam("region")
)
_FACTS = union_all(_part(_PRICE, PRICE_HISTORY), _part(_OFFER, LIVE_TERMS))
_FACTS_IN_REGION = union_all(
    _part(_PRICE, PRICE_HISTORY), _part(_OFFER, LIVE_TERMS), _part(_PAUSE, _PAUSES)
)
