"""inventory: stock per product, and a shipping estimate that requires price and weight."""

from __future__ import annotations

import strawberry

from bench.subgraphs.data import bench_data


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: str
    weight: int | None = strawberry.federation.field(external=True, default=None)
    price: int | None = strawberry.federation.field(external=True, default=None)
    in_stock: bool | None = None

    @strawberry.federation.field(requires=["price weight"])
    def shipping_estimate(self) -> int | None:
        # The reference subgraph ignores the required fields and always answers null;
        # the expected response depends on it.
        return None

    @classmethod
    def resolve_reference(cls, upc: str, **_required: object) -> Product:
        return cls(upc=upc, in_stock=bench_data().in_stock.get(upc))


schema = strawberry.federation.Schema(types=[Product], federation_version="2.3")
