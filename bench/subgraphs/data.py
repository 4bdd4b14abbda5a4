"""The benchmark's fixed data, read at run time from the shared bench-data directory."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def bench_data_dir() -> Path:
    """The workload lives beside the repo (``../shared/bench-data``), not inside it."""
    override = os.environ.get("BENCH_DATA_DIR")
    if override:
        return Path(override)
    return REPO_ROOT.parent / "shared" / "bench-data"


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    name: str
    username: str
    birthday: int


@dataclass(frozen=True, slots=True)
class ProductRow:
    upc: str
    name: str
    price: int
    weight: int


@dataclass(frozen=True, slots=True)
class ReviewRow:
    id: str
    body: str
    product_upc: str


@dataclass(frozen=True, slots=True)
class BenchData:
    users: tuple[UserRow, ...]
    products: tuple[ProductRow, ...]
    in_stock: dict[str, bool]
    reviews: tuple[ReviewRow, ...]

    def user(self, user_id: str) -> UserRow | None:
        return next((user for user in self.users if user.id == user_id), None)

    def product(self, upc: str) -> ProductRow | None:
        return next((product for product in self.products if product.upc == upc), None)

    def review(self, review_id: str) -> ReviewRow | None:
        return next((review for review in self.reviews if review.id == review_id), None)


@cache
def bench_data() -> BenchData:
    raw = json.loads((bench_data_dir() / "subgraph-data.json").read_text())
    return BenchData(
        users=tuple(UserRow(**user) for user in raw["users"]),
        products=tuple(ProductRow(**product) for product in raw["products"]),
        in_stock=dict(raw["inStock"]),
        reviews=tuple(
            ReviewRow(id=review["id"], body=review["body"], product_upc=review["productUpc"])
            for review in raw["reviews"]
        ),
    )
