"""products: the catalogue, with ``topProducts`` as the entry point."""

from __future__ import annotations

import strawberry

from bench.subgraphs.data import ProductRow, bench_data


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: str
    name: str | None
    price: int | None
    weight: int | None

    @classmethod
    def from_row(cls, row: ProductRow) -> Product:
        return cls(upc=row.upc, name=row.name, price=row.price, weight=row.weight)

    @classmethod
    def resolve_reference(cls, upc: str) -> Product | None:
        row = bench_data().product(upc)
        return cls.from_row(row) if row else None


@strawberry.type
class Query:
    @strawberry.field
    def top_products(self, first: int | None = 5) -> list[Product | None] | None:
        rows = bench_data().products
        return [Product.from_row(row) for row in rows[: first if first is not None else 5]]


schema = strawberry.federation.Schema(query=Query, federation_version="2.3")
