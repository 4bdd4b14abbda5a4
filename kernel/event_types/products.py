"""The events products records, each with partition key = the SKU. Every products replica
drops its cached card of the SKU on them."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import (
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictStr,
    model_serializer,
    model_validator,
)
from pydantic.dataclasses import dataclass
from pydantic_core import ArgsKwargs

from kernel.payloads import EventPayload, Moment, array_of, fixed_array


@dataclass(frozen=True, slots=True)
class ChannelPublication:
    """Whether the product is sold in ``channel``, and since when that has been so; on the
    wire a ``[channel, published, since]`` array, as in the product card."""

    channel: StrictStr
    published: StrictBool
    since: Moment

    @model_validator(mode="before")
    @classmethod
    def _from_array(cls, value: Any) -> Any:
        if isinstance(value, (ArgsKwargs, ChannelPublication)):  # built in code
            return value
        return ArgsKwargs(fixed_array(value, 3))

    @model_serializer(mode="wrap")
    def _as_array(self, fields: SerializerFunctionWrapHandler) -> list[Any]:
        return list(fields(self).values())


# A (name, value) pair, a [name, value] array on the wire.
NameValue = Annotated[tuple[StrictStr, StrictStr], array_of(2)]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProductUpserted(EventPayload):
    """A product as it now is (the fields of its cached card), and whether it is new."""

    TYPE: ClassVar[str] = "ProductUpserted"
    VERSION: ClassVar[int] = 1

    sku: StrictStr
    name: StrictStr
    description: StrictStr
    brand: StrictStr
    category: StrictStr
    unit_of_measure: StrictStr
    style: StrictStr
    attributes: tuple[NameValue, ...]
    variant_attributes: tuple[NameValue, ...]
    status: StrictStr
    publications: tuple[ChannelPublication, ...]
    created: StrictBool


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelPublicationChange(EventPayload):
    """A product's publication in one channel changed at ``since``."""

    sku: StrictStr
    channel: StrictStr
    since: Moment


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

    sku: StrictStr
    at: Moment
