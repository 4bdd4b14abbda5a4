"""inventory: stock per product, and a shipping estimate that requires price and weight."""

from __future__ import annotations

import strawberry

from bench.subgraphs.data import bench_data

# shippingEstimate: the reference subgraph ignores the required price and weight and always
# answers null; the expected response depends on it.


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: str
    weight: int | None = strawberry.federation.field(external=True, default=None)
    price: int | None = strawberry.federation.field(external=True, default=None)
    in_stock: bool | None = None

    shipping_estimate: int | None = strawberry.federation.field(
        resolver=lambda: None, requires=["price weight"]
    )

    @classmethod
    def resolve_reference(cls, upc: str, **_required: object) -> Product:
        return cls(upc=upc, in_stock=bench_data().in_stock.get(upc))


schema = strawberry.federation.Schema(types=[Product], federation_version="2.3")
