"""Pricing's internal endpoint (``adapters/graphql/internal.py``): checkout's quote.

``POST /internal/quote`` with ``{"lines": [{"sku", "quantity"}], "channel", "currency",
"region", "location"}`` (the last two may be null) answers ``{"lines": [{"sku",
"quantity", "unitBase", "lineTotal", "taxRate"}]}``, amounts as decimal strings, each
line as ``quote`` prices it in GraphQL, with the same refusals (``UNKNOWN_SKU``,
``PRICE_NOT_FOUND``, ``INVALID_QUANTITY``, ...).
"""

from __future__ import annotations

from typing import Any

from adapters.graphql.internal import (
    Call,
    InternalEndpoint,
    objects,
    optional_text,
    text,
    whole_number,
)
from domains.pricing import service
from domains.pricing.bootstrap import PricingDomain
from domains.pricing.errors import InvalidQuantity


async def quote(call: Call) -> dict[str, Any]:
    domain: PricingDomain = call.domain
    body = call.body
    asked = objects(body, "lines", at_most=service.MAX_QUOTE_LINES, code=InvalidQuantity.code)
    result = await service.quote(
        domain.uow(),
        [(text(line, "sku"), whole_number(line, "quantity")) for line in asked],
        channel=text(body, "channel"),
        currency=text(body, "currency"),
        region=optional_text(body, "region"),
        location=optional_text(body, "location"),
        sales=domain.sales,
    )
    return {
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unitBase": str(line.unit_base),
                "lineTotal": str(line.line_total),
                "taxRate": str(line.tax_rate),
            }
            for line in result.lines
        ]
    }


ENDPOINTS = [InternalEndpoint("quote", quote)]
