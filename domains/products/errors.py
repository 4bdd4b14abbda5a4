"""What can go wrong with a product request; each error carries the code clients act on."""

from __future__ import annotations

from kernel.errors import DomainError


class ProductsError(DomainError):
    code = "PRODUCTS_ERROR"


class ProductNotFound(ProductsError):
    code = "PRODUCT_NOT_FOUND"

    def __init__(self, sku: str) -> None:
        super().__init__(f"No product has the SKU {sku!r}", sku=sku)


class InvalidProduct(ProductsError):
    """An item the ERP (or a client) sent breaks a rule of the catalogue."""

    code = "INVALID_PRODUCT"


class UnknownChannel(ProductsError):
    code = "UNKNOWN_CHANNEL"

    def __init__(self, channel: str, known: tuple[str, ...] = ()) -> None:
        expected = f"; expected one of: {', '.join(known)}" if known else ""
        super().__init__(f"Unknown channel {channel!r}{expected}", channel=channel)


class ProductDiscontinued(ProductsError):
    code = "PRODUCT_DISCONTINUED"

    def __init__(self, sku: str) -> None:
        super().__init__(f"Product {sku!r} is discontinued and cannot be published", sku=sku)


class InvalidPageSize(ProductsError):
    code = "INVALID_PAGE_SIZE"


class InvalidCursor(ProductsError):
    code = "INVALID_CURSOR"


class InvalidFilter(ProductsError):
    code = "INVALID_FILTER"
