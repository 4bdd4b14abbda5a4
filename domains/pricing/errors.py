"""What can go wrong when pricing is asked to do something; each error carries a code."""

from __future__ import annotations

from kernel.errors import DomainError


class PricingError(DomainError):
    code = "PRICING_ERROR"


class InvalidWindow(PricingError):
    code = "INVALID_WINDOW"


class InvalidDiscount(PricingError):
    code = "INVALID_DISCOUNT"


class InvalidPromotion(PricingError):
    """Terms that are malformed in some other way (name, priority, eligibility, threshold)."""

    code = "INVALID_PROMOTION"


class PromotionNotFound(PricingError):
    code = "PROMOTION_NOT_FOUND"


class InvalidStatusTransition(PricingError):
    code = "INVALID_STATUS_TRANSITION"


class NoPreviousVersion(PricingError):
    code = "NO_PREVIOUS_VERSION"


class UnknownSku(PricingError):
    code = "UNKNOWN_SKU"


class InvalidQuantity(PricingError):
    code = "INVALID_QUANTITY"


class UnsupportedCurrency(PricingError):
    code = "UNSUPPORTED_CURRENCY"


class UnknownChannel(PricingError):
    code = "UNKNOWN_CHANNEL"


class PriceNotFound(PricingError):
    code = "PRICE_NOT_FOUND"


class InvalidAmount(PricingError):
    code = "INVALID_AMOUNT"


class EmptyQuote(PricingError):
    code = "EMPTY_QUOTE"


class InvalidDateTime(PricingError):
    code = "INVALID_DATETIME"


class HeldChangeNotFound(PricingError):
    code = "HELD_CHANGE_NOT_FOUND"


class HeldChangeDecided(PricingError):
    """Approving a discarded change, or discarding an approved one."""

    code = "HELD_CHANGE_DECIDED"
