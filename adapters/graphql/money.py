"""``Money``, the value type the pricing and orders subgraphs both return (shareable)."""

from __future__ import annotations

from decimal import Decimal

import strawberry


@strawberry.federation.type(
    shareable=True, description="An amount of money; amount is a decimal string."
)
class Money:
    amount: str
    currency: str

    @classmethod
    def of(cls, amount: Decimal, currency: str) -> Money:
        return cls(amount=str(amount), currency=currency)
