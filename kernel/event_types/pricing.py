"""The events pricing records: price list changes, SKU tax facts, and promotions changing
status, as a whole or (on low stock) for one SKU in one region.

The promotion subscriptions follow the promotion events; every pricing replica drops its
cached prices and live promotions on them.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, StrictBool, StrictInt, StrictStr
from pydantic.dataclasses import dataclass

from kernel.payloads import (
    AmountsByCurrency,
    DecimalText,
    EventPayload,
    Moment,
    NullAsDefault,
    PayloadPart,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceChanged(EventPayload):
    """A SKU's list price in a currency and channel (``channel`` names the list: a sales
    channel, or the one every channel falls back to); amounts are decimal strings."""

    TYPE: ClassVar[str] = "PriceChanged"
    VERSION: ClassVar[int] = 1

    sku: StrictStr
    currency: StrictStr
    channel: StrictStr
    old_amount: DecimalText | None = None
    new_amount: DecimalText


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceScheduled(EventPayload):
    """A SKU's list price in a currency and channel will change at ``effective_from``;
    until then the old price stands. ``PriceChanged`` follows when the moment comes."""

    TYPE: ClassVar[str] = "PriceScheduled"
    VERSION: ClassVar[int] = 1

    sku: StrictStr
    currency: StrictStr
    channel: StrictStr
    amount: DecimalText
    effective_from: Moment


@dataclass(frozen=True, slots=True, kw_only=True)
class SkuPricingChanged(EventPayload):
    """A known SKU's category or tax rate changed (what promotions match and quotes tax)."""

    TYPE: ClassVar[str] = "SkuPricingChanged"
    VERSION: ClassVar[int] = 1

    sku: StrictStr
    category: StrictStr | None = None
    tax_rate: DecimalText


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionTermsSnapshot(PayloadPart):
    """A promotion version's terms, in the JSON shape pricing also stores them in.

    ``kind`` and ``stacking`` are pricing's enum values; ``amounts`` are (currency, amount)
    pairs in currency order; an empty eligibility list matches everything.
    """

    name: StrictStr
    skus: tuple[StrictStr, ...]
    categories: tuple[StrictStr, ...]
    channels: tuple[StrictStr, ...]
    segments: tuple[StrictStr, ...]
    starts_at: Moment
    ends_at: Moment
    kind: StrictStr
    percent: DecimalText | None = None
    amounts: AmountsByCurrency
    buy: StrictInt | None = None
    get: StrictInt | None = None
    priority: StrictInt
    stacking: StrictStr
    low_stock_threshold: StrictInt | None = None
    # Versions published before promotions could resume on their own lack it.
    auto_resume: Annotated[StrictBool, NullAsDefault] = False
    # Where it applies beyond channels: regions, and the stores chosen (for the store
    # channel). Left out when empty (every region, every store), as versions published
    # before scopes existed were.
    regions: tuple[StrictStr, ...] = Field(default=(), exclude_if=lambda scope: not scope)
    locations: tuple[StrictStr, ...] = Field(default=(), exclude_if=lambda scope: not scope)


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionChange(EventPayload):
    """A promotion as a whole after a step of its life: its current version, its status
    then, and that version's terms; partition key = the promotion's id."""

    promotion_id: StrictStr
    promotion_version: StrictInt = Field(validation_alias="version", serialization_alias="version")
    status: StrictStr
    terms: PromotionTermsSnapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionCreated(PromotionChange):
    """A promotion was created in draft with its first version."""

    TYPE: ClassVar[str] = "PromotionCreated"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionVersionPublished(PromotionChange):
    """New terms became the promotion's current version."""

    TYPE: ClassVar[str] = "PromotionVersionPublished"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionActivated(PromotionChange):
    """The promotion is live from its window's start."""

    TYPE: ClassVar[str] = "PromotionActivated"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionPaused(PromotionChange):
    """The promotion was paused everywhere."""

    TYPE: ClassVar[str] = "PromotionPaused"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionRolledBack(PromotionChange):
    """The previous version's terms apply again."""

    TYPE: ClassVar[str] = "PromotionRolledBack"
    VERSION: ClassVar[int] = 1


def _absent(value: object) -> bool:
    return value is None


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionStatusChanged(EventPayload):
    """A promotion's status changed without anyone changing the promotion.

    For one SKU in one region (``sku`` and ``region`` set): paused on low stock (``reason``
    LOW_STOCK), or the pause lifted when stock came back (STOCK_RECOVERED), by an operator
    (OPERATOR) or because the terms in force no longer ask for it (TERMS_CHANGED). For the
    whole promotion (no ``sku``, no ``region``): its window opened (WINDOW_STARTED) or
    closed (WINDOW_ENDED) for version ``version``. ``status`` is where the promotion stands
    there now.
    """

    TYPE: ClassVar[str] = "PromotionStatusChanged"
    VERSION: ClassVar[int] = 1

    promotion_id: StrictStr
    sku: StrictStr | None = Field(default=None, exclude_if=_absent)
    region: StrictStr | None = Field(default=None, exclude_if=_absent)
    status: StrictStr
    reason: StrictStr
    available: StrictInt | None = Field(default=None, exclude_if=_absent)
    threshold: StrictInt | None = None
    channels: tuple[StrictStr, ...]
    promotion_version: StrictInt | None = Field(
        default=None,
        validation_alias="version",
        serialization_alias="version",
        exclude_if=_absent,
    )
