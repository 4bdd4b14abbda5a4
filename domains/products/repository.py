"""The products tables, and the SQL that reads and writes them.

A product and its publications are always read with one statement (a join), so that a
batch of any size costs one round trip: the entities loader relies on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    Select,
    String,
    Table,
    Text,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from adapters.db.outbox import outbox_table
from domains.products.model import (
    Attribute,
    Product,
    ProductFilter,
    Publication,
    ordered_publications,
)
from kernel.clock import as_utc

metadata = MetaData()

products = Table(
    "products_product",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("brand", String(100), nullable=False, index=True),
    Column("category", String(200), nullable=False, index=True),
    Column("unit_of_measure", String(8), nullable=False),
    Column("style", String(64), nullable=False, index=True),
    Column("attributes", JSON, nullable=False),
    Column("variant_attributes", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

publications = Table(
    "products_publication",
    metadata,
    Column(
        "sku", String(64), ForeignKey("products_product.sku", ondelete="CASCADE"), primary_key=True
    ),
    Column("channel", String(16), primary_key=True),
    Column("published", Boolean, nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
    Index("ix_products_publication_channel_published", "channel", "published"),
)

outbox = outbox_table(metadata, "products")

_MAX_KEYS = 10_000


def _product_query() -> Select[Any]:
    return select(
        products, publications.c.channel, publications.c.published, publications.c.since
    ).select_from(products.outerjoin(publications, publications.c.sku == products.c.sku))


def _rows_to_products(rows: Iterable[Any]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    channels: dict[str, list[Publication]] = {}
    for row in rows:
        if row.sku not in found:
            found[row.sku] = Product(
                sku=row.sku,
                name=row.name,
                description=row.description,
                brand=row.brand,
                category=row.category,
                unit_of_measure=row.unit_of_measure,
                style=row.style,
                attributes=tuple(Attribute(n, v) for n, v in row.attributes),
                variant_attributes=tuple(Attribute(n, v) for n, v in row.variant_attributes),
                status=row.status,
            )
            channels[row.sku] = []
        if row.channel is not None:
            channels[row.sku].append(Publication(row.channel, row.published, as_utc(row.since)))
    return {
        sku: replace(product, publications=ordered_publications(channels[sku]))
        for sku, product in found.items()
    }


def _upsert(dialect_name: str, table: Table, rows: list[dict[str, Any]], keys: list[str]) -> Any:
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    statement = insert(table).values(rows)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=updates)


class ProductRepository:
    """Products inside a unit of work's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_many(
        self, skus: Sequence[str], *, for_update: bool = False
    ) -> dict[str, Product]:
        """The products among ``skus``; ``for_update`` locks their rows until commit."""
        if not skus:
            return {}
        if for_update:
            # Lock first, then read in a new statement: under READ COMMITTED a locking
            # join re-reads only the locked rows after a wait, not the joined
            # publications, which would then be stale.
            lock = select(products.c.sku).where(products.c.sku.in_(list(skus)))
            await self.session.execute(lock.order_by(products.c.sku).with_for_update())
        query = _product_query().where(products.c.sku.in_(list(skus)))
        return _rows_to_products((await self.session.execute(query)).all())

    async def get(self, sku: str, *, for_update: bool = False) -> Product | None:
        return (await self.get_many([sku], for_update=for_update)).get(sku)

    async def save_many(self, changed: Sequence[Product], at: datetime) -> None:
        if not changed:
            return
        dialect = self.session.get_bind().dialect.name
        product_rows = [
            {
                "sku": p.sku,
                "name": p.name,
                "description": p.description,
                "brand": p.brand,
                "category": p.category,
                "unit_of_measure": p.unit_of_measure,
                "style": p.style,
                "attributes": [[a.name, a.value] for a in p.attributes],
                "variant_attributes": [[a.name, a.value] for a in p.variant_attributes],
                "status": p.status,
                "updated_at": at,
            }
            for p in changed
        ]
        for chunk in _chunks(product_rows, 500):
            await self.session.execute(_upsert(dialect, products, chunk, ["sku"]))
        publication_rows = [
            {"sku": p.sku, "channel": pub.channel, "published": pub.published, "since": pub.since}
            for p in changed
            for pub in p.publications
        ]
        for chunk in _chunks(publication_rows, 500):
            await self.session.execute(_upsert(dialect, publications, chunk, ["sku", "channel"]))


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# --- Reads for the GraphQL layer (outside any unit of work) ------------------------------


async def load_products(conn: AsyncConnection, skus: Sequence[str]) -> dict[str, Product]:
    """The products among ``skus``, with one SQL statement (per 10,000 SKUs).

    The drivers cap a statement at 32,767 parameters; no real batch comes near that,
    but a client could send one.
    """
    found: dict[str, Product] = {}
    for start in range(0, len(skus), _MAX_KEYS):
        chunk = list(skus[start : start + _MAX_KEYS])
        query = _product_query().where(products.c.sku.in_(chunk))
        found.update(_rows_to_products((await conn.execute(query)).all()))
    return found


async def load_products_by_style(conn: AsyncConnection, styles: Sequence[str]) -> list[Product]:
    """Every product of ``styles``, with one SQL statement."""
    if not styles:
        return []
    query = _product_query().where(products.c.style.in_(list(styles)))
    return list(_rows_to_products((await conn.execute(query)).all()).values())


def _where(query: Select[Any], product_filter: ProductFilter) -> Select[Any]:
    if product_filter.category is not None:
        subtree = product_filter.category.replace("_", r"\_") + "/%"
        query = query.where(
            or_(
                products.c.category == product_filter.category,
                products.c.category.like(subtree, escape="\\"),
            )
        )
    if product_filter.brand is not None:
        query = query.where(products.c.brand == product_filter.brand)
    if product_filter.channel is not None:
        query = query.where(
            exists().where(
                publications.c.sku == products.c.sku,
                publications.c.channel == product_filter.channel,
                publications.c.published.is_(True),
            )
        )
    if product_filter.search is not None:
        escaped = (
            product_filter.search.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        )
        query = query.where(products.c.name.ilike(f"%{escaped}%", escape="\\"))
    return query


async def page_of_skus(
    conn: AsyncConnection, product_filter: ProductFilter, *, after: str | None, limit: int
) -> list[str]:
    """Up to ``limit`` SKUs after ``after`` in SKU order (keyset pagination)."""
    query = _where(select(products.c.sku), product_filter)
    if after is not None:
        query = query.where(products.c.sku > after)
    query = query.order_by(products.c.sku).limit(limit)
    return list((await conn.execute(query)).scalars().all())


async def count_products(conn: AsyncConnection, product_filter: ProductFilter) -> int:
    query = _where(select(func.count()).select_from(products), product_filter)
    return int((await conn.execute(query)).scalar_one())


async def count_known(conn: AsyncConnection, skus: Sequence[str]) -> int:
    """How many of ``skus`` exist (the demo loader's is-it-there-yet check)."""
    total = 0
    for start in range(0, len(skus), 500):
        chunk = list(skus[start : start + 500])
        query = select(func.count()).select_from(products).where(products.c.sku.in_(chunk))
        total += int((await conn.execute(query)).scalar_one())
    return total
