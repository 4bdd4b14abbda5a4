"""Two tiny real subgraphs (strawberry, Federation v2) for end-to-end gateway tests.

``products`` owns Product (sku, name) and the root fields; ``stock`` extends Product by
key with ``inStock``. Each app records the headers of the requests it receives.
"""

from __future__ import annotations

from typing import Any

import strawberry
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.graphql.subgraph import FederatedSchema, subgraph_app
from kernel.errors import DomainError


@strawberry.federation.type(keys=["sku"])
class Product:
    sku: strawberry.ID
    name: str

    @classmethod
    def resolve_reference(cls, sku: strawberry.ID) -> Product:
        return Product(sku=sku, name=f"Product {sku}")


@strawberry.type
class ProductsQuery:
    @strawberry.field
    def products(self, first: int = 2) -> list[Product]:
        if not 0 <= first <= 100:
            raise DomainError("first must be between 0 and 100", code="BAD_USER_INPUT")
        return [
            Product(sku=strawberry.ID(f"SKU-{i}"), name=f"Product SKU-{i}") for i in range(first)
        ]

    @strawberry.field
    def product(self, sku: strawberry.ID) -> Product | None:
        if sku == "BOOM":
            raise DomainError("the product store is down", code="PRODUCT_STORE_DOWN")
        return Product(sku=sku, name=f"Product {sku}") if sku.startswith("SKU-") else None


@strawberry.type
class ProductsMutation:
    @strawberry.mutation
    def rename(self, sku: strawberry.ID, name: str) -> Product:
        return Product(sku=sku, name=name)


@strawberry.federation.type(keys=["sku"], name="Product")
class StockedProduct:
    sku: strawberry.ID

    @strawberry.field
    def in_stock(self) -> int:
        number = self.sku.rsplit("-", 1)[-1]
        return int(number) * 10 if number.isdigit() and len(number) < 6 else 0

    @classmethod
    def resolve_reference(cls, sku: strawberry.ID) -> StockedProduct:
        return StockedProduct(sku=sku)


@strawberry.type
class StockQuery:
    @strawberry.field
    def stock_version(self) -> int:
        return 1


class RecordingApp:
    """Wraps an ASGI app and keeps the headers of each HTTP request it serves."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await self.app(scope, receive, send)


async def _context() -> dict[str, Any]:
    return {}


def subgraph_apps() -> dict[str, RecordingApp]:
    products = FederatedSchema(query=ProductsQuery, mutation=ProductsMutation, types=[Product])
    stock = FederatedSchema(query=StockQuery, types=[StockedProduct])
    return {
        "products": RecordingApp(subgraph_app(products, _context)),
        "stock": RecordingApp(subgraph_app(stock, _context)),
    }
