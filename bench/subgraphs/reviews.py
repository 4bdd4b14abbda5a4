"""reviews: reviews of products by users; it provides the author's username itself."""

from __future__ import annotations

import strawberry

from bench.subgraphs.data import ReviewRow, bench_data

AUTHOR_ID = "1"
AUTHOR_USERNAME = "urigo"


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: str

    @strawberry.field
    def reviews(self) -> list[Review | None] | None:
        return [Review.from_row(row) for row in bench_data().reviews if row.product_upc == self.upc]

    @classmethod
    def resolve_reference(cls, upc: str) -> Product:
        return cls(upc=upc)


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    username: str | None = strawberry.federation.field(external=True, default=None)

    @strawberry.field
    def reviews(self) -> list[Review | None] | None:
        # The reference subgraph gives every user the same first two reviews.
        return [Review.from_row(row) for row in bench_data().reviews[:2]]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, username: str | None = None) -> User:
        return cls(id=id, username=username)


@strawberry.federation.type(keys=["id"])
class Review:
    id: strawberry.ID
    body: str | None
    product_upc: strawberry.Private[str]

    @strawberry.field
    def product(self) -> Product | None:
        return Product(upc=self.product_upc)

    author: User | None = strawberry.federation.field(
        resolver=lambda: _author(), provides=["username"]
    )

    @classmethod
    def from_row(cls, row: ReviewRow) -> Review:
        return cls(id=strawberry.ID(row.id), body=row.body, product_upc=row.product_upc)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Review | None:
        row = bench_data().review(str(id))
        return cls.from_row(row) if row else None


def _author() -> User:
    """Every review is by user 1; the subgraph knows the username it provides."""
    return User(id=strawberry.ID(AUTHOR_ID), username=AUTHOR_USERNAME)


schema = strawberry.federation.Schema(types=[Product, User, Review], federation_version="2.3")
