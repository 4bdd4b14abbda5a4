"""The events products records, each with partition key = the SKU. Every products replica
drops its cached card of the SKU on them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from kernel.payloads import EventPayload, PayloadReader, reader


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelPublication:
    """Whether the product is sold in ``channel``, and since when that has been so; on the
    wire a ``[channel, published, since]`` array, as in the product card."""

    channel: str
    published: bool
    since: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductUpserted(EventPayload):
    """A product as it now is (the fields of its cached card), and whether it is new."""

    TYPE: ClassVar[str] = "ProductUpserted"
    VERSION: ClassVar[int] = 1

    sku: str
    name: str
    description: str
    brand: str
    category: str
    unit_of_measure: str
    style: str
    # (name, value) pairs, each a [name, value] array on the wire.
    attributes: tuple[tuple[str, str], ...]
    variant_attributes: tuple[tuple[str, str], ...]
    status: str
    publications: tuple[ChannelPublication, ...]
    created: bool

    def to_payload(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "name": self.name,
            "description": self.description,
            "brand": self.brand,
            "category": self.category,
            "unitOfMeasure": self.unit_of_measure,
            "style": self.style,
            "attributes": [[name, value] for name, value in self.attributes],
            "variantAttributes": [[name, value] for name, value in self.variant_attributes],
            "status": self.status,
            "publications": [
                [p.channel, p.published, p.since.isoformat()] for p in self.publications
            ],
            "created": self.created,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            sku=fields.text("sku"),
            name=fields.text("name"),
            description=fields.text("description"),
            brand=fields.text("brand"),
            category=fields.text("category"),
            unit_of_measure=fields.text("unitOfMeasure"),
            style=fields.text("style"),
            attributes=_pairs(fields, "attributes"),
            variant_attributes=_pairs(fields, "variantAttributes"),
            status=fields.text("status"),
            publications=_publications(fields),
            created=fields.boolean("created"),
        )


def _pairs(fields: PayloadReader, key: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (
            fields.element(f"{key}[{index}][0]", name, str, "a string"),
            fields.element(f"{key}[{index}][1]", value, str, "a string"),
        )
        for index, (name, value) in enumerate(fields.tuples(key, 2))
    )


def _publications(fields: PayloadReader) -> tuple[ChannelPublication, ...]:
    found = []
    for index, (channel, published, since) in enumerate(fields.tuples("publications", 3)):
        where = f"publications[{index}]"
        found.append(
            ChannelPublication(
                channel=fields.element(f"{where}[0]", channel, str, "a string"),
                published=fields.element(f"{where}[1]", published, bool, "true or false"),
                since=fields.element_moment(f"{where}[2]", since),
            )
        )
    return tuple(found)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelPublicationChange(EventPayload):
    """A product's publication in one channel changed at ``since``."""

    sku: str
    channel: str
    since: datetime

    def to_payload(self) -> dict[str, Any]:
        return {"sku": self.sku, "channel": self.channel, "since": self.since.isoformat()}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            sku=fields.text("sku"), channel=fields.text("channel"), since=fields.moment("since")
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductPublished(ChannelPublicationChange):
    """The product is sold in the channel from ``since`` on."""

    TYPE: ClassVar[str] = "ProductPublished"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductUnpublished(ChannelPublicationChange):
    """The product is no longer sold in the channel from ``since`` on."""

    TYPE: ClassVar[str] = "ProductUnpublished"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductDiscontinued(EventPayload):
    """The product was discontinued ``at`` a moment; it stays readable."""

    TYPE: ClassVar[str] = "ProductDiscontinued"
    VERSION: ClassVar[int] = 1

    sku: str
    at: datetime

    def to_payload(self) -> dict[str, Any]:
        return {"sku": self.sku, "at": self.at.isoformat()}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(sku=fields.text("sku"), at=fields.moment("at"))
