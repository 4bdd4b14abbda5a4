"""The products subgraph: thin strawberry types over the loaders and the service layer."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from adapters.graphql.access import requires
from adapters.graphql.cost import list_size
from adapters.graphql.subgraph import FederatedSchema
from domains.products import model, repository, service
from domains.products.bootstrap import ProductsDomain
from domains.products.errors import ProductNotFound
from domains.products.queries import ProductLoaders
from kernel.errors import InvalidInput


def _domain(info: Info) -> ProductsDomain:
    domain: ProductsDomain = info.context["domain"]
    return domain


def _loaders(info: Info) -> ProductLoaders:
    loaders: ProductLoaders = info.context["loaders"]
    return loaders


@strawberry.enum
class ProductStatus(enum.Enum):
    ACTIVE = model.ACTIVE
    DISCONTINUED = model.DISCONTINUED


@strawberry.type
class ProductAttribute:
    name: str
    value: str


@strawberry.type(description="Whether a product is sold in a channel, and since when.")
class ChannelPublication:
    channel: str
    published: bool
    since: datetime | None = strawberry.field(
        description="When it was last published or withdrawn; null if it never was."
    )


@strawberry.federation.type(name="Product", keys=["sku"])
class ProductType:
    sku: strawberry.ID
    name: str
    description: str
    brand: str
    category: str = strawberry.field(description="A path such as 'apparel/tops'.")
    unit_of_measure: str
    style: str = strawberry.field(description="The style (model) code the variants share.")
    attributes: list[ProductAttribute]
    variant_attributes: list[ProductAttribute] = strawberry.field(
        description="What sets this SKU apart from its variants, such as colour and size."
    )
    status: ProductStatus
    product: strawberry.Private[model.Product]

    @classmethod
    def from_model(cls, product: model.Product) -> ProductType:
        def pairs(attributes: tuple[model.Attribute, ...]) -> list[ProductAttribute]:
            return [ProductAttribute(name=a.name, value=a.value) for a in attributes]

        return cls(
            sku=strawberry.ID(product.sku),
            name=product.name,
            description=product.description,
            brand=product.brand,
            category=product.category,
            unit_of_measure=product.unit_of_measure,
            style=product.style,
            attributes=pairs(product.attributes),
            variant_attributes=pairs(product.variant_attributes),
            status=ProductStatus(product.status),
            product=product,
        )

    @strawberry.field(description="The publication status in every channel.")
    def publications(self, info: Info) -> list[ChannelPublication]:
        publications = []
        for channel in _domain(info).sales.channels:
            publication = self.product.publication(channel)
            publications.append(
                ChannelPublication(
                    channel=channel,
                    published=publication is not None and publication.published,
                    since=None if publication is None else publication.since,
                )
            )
        return publications

    @strawberry.field(description="True when the product is published in `channel`.")
    def published_in(self, info: Info, channel: str) -> bool:
        return self.product.is_published_in(model.sold_in(channel, _domain(info).sales))

    @strawberry.field(
        description="The other SKUs of the same style.",
        directives=[list_size(assumed_size=20)],
    )
    async def variants(self, info: Info) -> list[ProductType]:
        siblings = await _loaders(info).variants_by_style.load(self.product.style)
        return [ProductType.from_model(p) for p in siblings if p.sku != self.product.sku]

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> ProductType:
        sku = representation.get("sku")
        if not isinstance(sku, str):
            raise InvalidInput("A Product representation needs a string sku")
        product = await _loaders(info).product_by_sku.load(sku)
        if product is None:
            raise ProductNotFound(sku)
        return cls.from_model(product)


@strawberry.federation.type(shareable=True)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class ProductEdge:
    cursor: str
    node: ProductType


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    page_info: PageInfo
    product_filter: strawberry.Private[model.ProductFilter]

    @strawberry.field(description="How many products match the filter, on every page.")
    async def total_count(self, info: Info) -> int:
        async with _domain(info).engine.connect() as conn:
            return await repository.count_products(conn, self.product_filter)


@strawberry.input
class ProductFilter:
    category: str | None = strawberry.field(
        default=None, description="A category path; its subcategories match too."
    )
    brand: str | None = None
    channel: str | None = strawberry.field(
        default=None, description="Only products published in this channel."
    )
    search: str | None = strawberry.field(
        default=None, description="Text the name contains, ignoring case."
    )


@strawberry.type
class Query:
    @strawberry.field(description="The product with this SKU; null when there is none.")
    async def product(self, info: Info, sku: strawberry.ID) -> ProductType | None:
        found = await _loaders(info).product_by_sku.load(str(sku))
        return None if found is None else ProductType.from_model(found)

    @strawberry.field(
        description="Products in SKU order, a page at a time (first: 1-200).",
        directives=[list_size(slicing_arguments=["first"], sized_fields=["edges"])],
    )
    async def products(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: ProductFilter | None = None,
    ) -> ProductConnection:
        size = model.check_page_size(first)
        after_sku = None if after is None else model.decode_cursor(after)
        given = filter or ProductFilter()
        if given.channel is not None:
            model.sold_in(given.channel, _domain(info).sales)
        product_filter = model.check_filter(
            category=given.category, brand=given.brand, channel=given.channel, search=given.search
        )
        async with _domain(info).engine.connect() as conn:
            skus = await repository.page_of_skus(
                conn, product_filter, after=after_sku, limit=size + 1
            )
        page = skus[:size]
        found = await _loaders(info).product_by_sku.load_many(page)
        edges = [
            ProductEdge(cursor=model.encode_cursor(p.sku), node=ProductType.from_model(p))
            for p in found
            if p is not None
        ]
        return ProductConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(skus) > size,
                has_previous_page=after_sku is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            product_filter=product_filter,
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Sell the product in a channel (a no-op if it is sold).",
        directives=requires("products:manage"),
    )
    async def publish_product(self, info: Info, sku: strawberry.ID, channel: str) -> ProductType:
        domain = _domain(info)
        product = await service.publish_product(domain.uow(), str(sku), channel, sales=domain.sales)
        return ProductType.from_model(product)

    @strawberry.mutation(
        description="Withdraw the product from a channel.", directives=requires("products:manage")
    )
    async def unpublish_product(self, info: Info, sku: strawberry.ID, channel: str) -> ProductType:
        product = await service.unpublish_product(_domain(info).uow(), str(sku), channel)
        return ProductType.from_model(product)

    @strawberry.mutation(
        description="Stop selling the product in every channel.",
        directives=requires("products:manage"),
    )
    async def discontinue_product(self, info: Info, sku: strawberry.ID) -> ProductType:
        product = await service.discontinue_product(_domain(info).uow(), str(sku))
        return ProductType.from_model(product)


schema = FederatedSchema(query=Query, mutation=Mutation, types=[ProductType])
