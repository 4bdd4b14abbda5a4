"""Per-request DataLoaders: every batch of keys costs one SQL statement (or none, if cached)."""

from __future__ import annotations

from dataclasses import dataclass

from aiodataloader import DataLoader

from domains.products import model, repository
from domains.products.bootstrap import ProductsDomain
from domains.products.model import Product


class ProductBySkuLoader(DataLoader[str, Product | None]):
    """Products by SKU through the product-card read model (the cache, then one query)."""

    def __init__(self, domain: ProductsDomain) -> None:
        super().__init__()
        self.domain = domain

    async def batch_load_fn(self, skus: list[str]) -> list[Product | None]:
        cards = await self.domain.cards.get_many(skus)
        return [None if card is None else model.from_card(card) for card in cards]


class VariantsByStyleLoader(DataLoader[str, list[Product]]):
    """Every product of each style, in SKU order, read in one statement per batch.

    The products it reads also prime ``by_sku``, so a variant asked for again in the
    same request costs nothing more.
    """

    def __init__(self, domain: ProductsDomain, by_sku: ProductBySkuLoader) -> None:
        super().__init__()
        self.domain = domain
        self.by_sku = by_sku

    async def batch_load_fn(self, styles: list[str]) -> list[list[Product]]:
        async with self.domain.engine.connect() as conn:
            found = await repository.load_products_by_style(conn, styles)
        grouped: dict[str, list[Product]] = {style: [] for style in styles}
        for product in sorted(found, key=lambda p: p.sku):
            grouped[product.style].append(product)
            self.by_sku.prime(product.sku, product)
        return [grouped[style] for style in styles]


@dataclass(frozen=True, slots=True)
class ProductLoaders:
    product_by_sku: ProductBySkuLoader
    variants_by_style: VariantsByStyleLoader


def make_loaders(domain: ProductsDomain) -> ProductLoaders:
    by_sku = ProductBySkuLoader(domain)
    return ProductLoaders(
        product_by_sku=by_sku, variants_by_style=VariantsByStyleLoader(domain, by_sku)
    )
