"""The products domain rules (pure: standard library and kernel only).

A product is one SKU from the ERP item master. SKUs of one style (the model code) are
each other's variants. The ERP owns the master data; this domain owns where each product
is published, and whether it is still sold.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from domains.products.errors import (
    InvalidCursor,
    InvalidFilter,
    InvalidPageSize,
    InvalidProduct,
    ProductDiscontinued,
    UnknownChannel,
)
from kernel.channels import SalesVocabulary, well_formed_channel
from kernel.event_types import (
    ChannelPublication,
    ProductPublished,
    ProductUnpublished,
    ProductUpserted,
)
from kernel.event_types import ProductDiscontinued as Discontinued

ACTIVE = "active"
DISCONTINUED = "discontinued"
STATUSES = (ACTIVE, DISCONTINUED)

MAX_PAGE_SIZE = 200
MAX_SEARCH_LENGTH = 100

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CATEGORY_SEGMENT = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")
_UNIT = re.compile(r"[A-Z0-9]{1,8}")
_CURSOR_PREFIX = "sku:"


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Publication:
    """Whether a product is sold in one channel, and since when that has been so."""

    channel: str
    published: bool
    since: datetime


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    description: str
    brand: str
    category: str
    unit_of_measure: str
    style: str
    attributes: tuple[Attribute, ...] = ()
    variant_attributes: tuple[Attribute, ...] = ()
    status: str = ACTIVE
    publications: tuple[Publication, ...] = field(default=())

    def publication(self, channel: str) -> Publication | None:
        return next((p for p in self.publications if p.channel == channel), None)

    def is_published_in(self, channel: str) -> bool:
        publication = self.publication(channel)
        return publication is not None and publication.published


# --- Validation of the ERP item master -------------------------------------------------


def parse_item(data: Mapping[str, Any]) -> Product:
    """A product from one ERP item record, or InvalidProduct naming the first bad field.

    Keys are snake_case: sku, name, description, brand, category, unit_of_measure, style,
    attributes (name -> value), variant (name -> value) and status.
    """
    if not isinstance(data, Mapping):
        raise InvalidProduct("An item must be an object", field="item")
    sku = check_sku(data.get("sku"))
    style_value = data.get("style")
    style = sku if style_value in (None, "") else _code(style_value, "style")
    status = data.get("status", ACTIVE)
    if status not in STATUSES:
        raise InvalidProduct(f"status must be one of: {', '.join(STATUSES)}", field="status")
    return Product(
        sku=sku,
        name=_text(data.get("name"), "name", max_length=200),
        description=_text(data.get("description", ""), "description", 4000, required=False),
        brand=_text(data.get("brand"), "brand", max_length=100),
        category=check_category(data.get("category")),
        unit_of_measure=_unit(data.get("unit_of_measure")),
        style=style,
        attributes=_attributes(data.get("attributes", {}), "attributes"),
        variant_attributes=_attributes(data.get("variant", {}), "variant"),
        status=status,
    )


def check_sku(value: Any) -> str:
    return _code(value, "sku")


def check_category(value: Any) -> str:
    """A category is a lower-case path such as ``apparel/tops``."""
    if not isinstance(value, str) or not value or len(value) > 200:
        raise InvalidProduct("category must be a path like 'apparel/tops'", field="category")
    if not all(_CATEGORY_SEGMENT.fullmatch(part) for part in value.split("/")):
        raise InvalidProduct(
            f"category {value!r} must be lower-case segments separated by '/'", field="category"
        )
    return value


def check_channel(channel: Any) -> str:
    """A well-formed channel name; whether the retailer sells there is ``sold_in``'s."""
    if not well_formed_channel(channel):
        raise UnknownChannel(str(channel)[:50])
    return str(channel)


def sold_in(channel: Any, sales: SalesVocabulary) -> str:
    """``channel`` when the retailer sells through it."""
    if not isinstance(channel, str) or not sales.sells_in(channel):
        raise UnknownChannel(str(channel)[:50], sales.channels)
    return channel


def _code(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise InvalidProduct(
            f"{name} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit",
            field=name,
        )
    return value


def _text(value: Any, name: str, max_length: int, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidProduct(f"{name} must be text", field=name)
    text: str = value.strip()
    if required and not text:
        raise InvalidProduct(f"{name} must not be empty", field=name)
    if len(text) > max_length:
        raise InvalidProduct(f"{name} must be at most {max_length} characters", field=name)
    return text


def _unit(value: Any) -> str:
    if not isinstance(value, str) or not _UNIT.fullmatch(value.strip().upper()):
        raise InvalidProduct(
            "unit_of_measure must be a code of 1-8 letters or digits, such as 'EA'",
            field="unit_of_measure",
        )
    return value.strip().upper()


def _attributes(value: Any, name: str) -> tuple[Attribute, ...]:
    pairs: Iterable[Any]
    if isinstance(value, Mapping):
        pairs = value.items()
    elif isinstance(value, list | tuple):
        pairs = value
    else:
        raise InvalidProduct(f"{name} must map names to values", field=name)
    attributes: dict[str, Attribute] = {}
    for pair in pairs:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise InvalidProduct(f"{name} must map names to values", field=name)
        key, raw = pair
        if not isinstance(key, str) or not key.strip() or len(key) > 64:
            raise InvalidProduct(f"{name} names must be 1-64 characters", field=name)
        if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
            raise InvalidProduct(f"{name}.{key} must be text or a number", field=name)
        text = str(raw).strip()
        if not text or len(text) > 500:
            raise InvalidProduct(f"{name}.{key} must be 1-500 characters", field=name)
        if key.strip() in attributes:
            raise InvalidProduct(f"{name} names {key!r} twice", field=name)
        attributes[key.strip()] = Attribute(key.strip(), text)
    return tuple(attributes.values())


# --- What the ERP and merchandisers do to a product -------------------------------------


def apply_item(existing: Product | None, item: Product, at: datetime) -> Product:
    """The product after an item-master import: new master data, publications kept.

    A product the ERP discontinues leaves every channel, as ``discontinue`` does.
    """
    if existing is None:
        return item
    updated = replace(item, publications=existing.publications)
    return discontinue(updated, at) if item.status == DISCONTINUED else updated


def publish(product: Product, channel: str, at: datetime) -> Product:
    """The product published in ``channel``; unchanged (same object) when it already is."""
    check_channel(channel)
    if product.status == DISCONTINUED:
        raise ProductDiscontinued(product.sku)
    if product.is_published_in(channel):
        return product
    return _with_publication(product, Publication(channel, True, at))


def unpublish(product: Product, channel: str, at: datetime) -> Product:
    """The product withdrawn from ``channel``; unchanged (same object) when it is not in it."""
    check_channel(channel)
    if not product.is_published_in(channel):
        return product
    return _with_publication(product, Publication(channel, False, at))


def discontinue(product: Product, at: datetime) -> Product:
    """No longer sold anywhere: discontinued and unpublished from every channel."""
    withdrawn = tuple(
        Publication(p.channel, False, at) if p.published else p for p in product.publications
    )
    if product.status == DISCONTINUED and withdrawn == product.publications:
        return product
    return replace(product, status=DISCONTINUED, publications=withdrawn)


def _with_publication(product: Product, publication: Publication) -> Product:
    others = tuple(p for p in product.publications if p.channel != publication.channel)
    return replace(product, publications=ordered_publications((*others, publication)))


def ordered_publications(publications: Iterable[Publication]) -> tuple[Publication, ...]:
    """Publications in the channels' names' order, so equal products compare equal."""
    return tuple(sorted(publications, key=lambda publication: publication.channel))


# --- Events ----------------------------------------------------------------------------

PRODUCT_UPSERTED = ProductUpserted.TYPE
PRODUCT_PUBLISHED = ProductPublished.TYPE
PRODUCT_UNPUBLISHED = ProductUnpublished.TYPE
PRODUCT_DISCONTINUED = Discontinued.TYPE
EVENT_TYPES = (PRODUCT_UPSERTED, PRODUCT_PUBLISHED, PRODUCT_UNPUBLISHED, PRODUCT_DISCONTINUED)


# What a change states; the service records each as an event keyed by the product's SKU.
ProductChange = ProductUpserted | ProductPublished | ProductUnpublished | Discontinued


def upserted(product: Product, *, created: bool) -> ProductUpserted:
    """The product as its card shows it, and whether it is new."""
    return ProductUpserted(
        sku=product.sku,
        name=product.name,
        description=product.description,
        brand=product.brand,
        category=product.category,
        unit_of_measure=product.unit_of_measure,
        style=product.style,
        attributes=tuple((a.name, a.value) for a in product.attributes),
        variant_attributes=tuple((a.name, a.value) for a in product.variant_attributes),
        status=product.status,
        publications=tuple(
            ChannelPublication(channel=p.channel, published=p.published, since=p.since)
            for p in product.publications
        ),
        created=created,
    )


def discontinued(product: Product, at: datetime) -> Discontinued:
    return Discontinued(sku=product.sku, at=at)


def publication_changes(
    before: Product, after: Product, at: datetime
) -> list[ProductPublished | ProductUnpublished]:
    """One change per channel whose publication differs between two versions of a product."""
    changes: list[ProductPublished | ProductUnpublished] = []
    channels = sorted({p.channel for p in (*before.publications, *after.publications)})
    for channel in channels:
        was, now = before.is_published_in(channel), after.is_published_in(channel)
        if now and not was:
            changes.append(ProductPublished(sku=after.sku, channel=channel, since=at))
        elif was and not now:
            changes.append(ProductUnpublished(sku=after.sku, channel=channel, since=at))
    return changes


# --- The product card: the cached, JSON shape of a product ------------------------------


def to_card(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "brand": product.brand,
        "category": product.category,
        "unitOfMeasure": product.unit_of_measure,
        "style": product.style,
        "attributes": [[a.name, a.value] for a in product.attributes],
        "variantAttributes": [[a.name, a.value] for a in product.variant_attributes],
        "status": product.status,
        "publications": [
            [p.channel, p.published, p.since.isoformat()] for p in product.publications
        ],
    }


def from_card(card: Mapping[str, Any]) -> Product:
    return Product(
        sku=card["sku"],
        name=card["name"],
        description=card["description"],
        brand=card["brand"],
        category=card["category"],
        unit_of_measure=card["unitOfMeasure"],
        style=card["style"],
        attributes=tuple(Attribute(n, v) for n, v in card["attributes"]),
        variant_attributes=tuple(Attribute(n, v) for n, v in card["variantAttributes"]),
        status=card["status"],
        publications=tuple(
            Publication(c, bool(p), datetime.fromisoformat(s)) for c, p, s in card["publications"]
        ),
    )


# --- Listing: filters and keyset pagination ----------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductFilter:
    category: str | None = None
    brand: str | None = None
    channel: str | None = None
    search: str | None = None


def check_filter(
    *,
    category: str | None = None,
    brand: str | None = None,
    channel: str | None = None,
    search: str | None = None,
) -> ProductFilter:
    """A listing filter with every part checked; ``category`` matches a whole subtree."""
    if category is not None:
        try:
            check_category(category)
        except InvalidProduct as error:
            raise InvalidFilter(error.message, field="category") from None
    if channel is not None:
        check_channel(channel)
    if brand is not None and len(brand) > 100:
        raise InvalidFilter("brand must be at most 100 characters", field="brand")
    if search is not None:
        search = search.strip()
        if len(search) > MAX_SEARCH_LENGTH:
            raise InvalidFilter(
                f"search must be at most {MAX_SEARCH_LENGTH} characters", field="search"
            )
    return ProductFilter(category=category, brand=brand, channel=channel, search=search or None)


def check_page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidPageSize(f"first must be between 1 and {MAX_PAGE_SIZE}", first=first)
    return first


def encode_cursor(sku: str) -> str:
    """Opaque to clients, stable for a SKU: pages are keyed on the SKU order."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{sku}".encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (UnicodeError, binascii.Error, ValueError):
        raise InvalidCursor("after is not a cursor this API returned") from None
    sku = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not _CODE.fullmatch(sku):
        raise InvalidCursor("after is not a cursor this API returned")
    return sku
