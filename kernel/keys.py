"""The idempotency keys orders and inventory share: what a checkout's key may be, and the
key under which each of its lines holds stock (``<key>:<line>``)."""

from __future__ import annotations

# A client's idempotency key: 1 to 200 characters.
MAX_IDEMPOTENCY_KEY = 200
# Lines in one order (and so reservations under one checkout key).
MAX_ORDER_LINES = 200
# A line's reservation key: the client's key, a colon and the line's number.
MAX_RESERVATION_KEY = MAX_IDEMPOTENCY_KEY + 1 + len(str(MAX_ORDER_LINES))


def reservation_key(order_key: str, line: int) -> str:
    """The key under which line ``line`` (from 1) of the order placed with ``order_key``
    holds its stock; a retry of the checkout names the same reservation."""
    return f"{order_key}:{line}"


def reservation_keys(order_key: str, count: int) -> list[str]:
    return [reservation_key(order_key, line) for line in range(1, count + 1)]
