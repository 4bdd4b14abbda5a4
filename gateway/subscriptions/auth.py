"""Who may subscribe: checked once per WebSocket at ``connection_init``, and per SSE request.

An ``Authenticator`` gets the ``connection_init`` payload (``None`` over SSE) and the
request headers, and says yes or no. The default lets everyone in; ``ApiKeys`` admits
the holders of configured keys, given as ``{"apiKey": KEY}`` or
``{"authorization": "Bearer KEY"}`` in the payload, or as an ``Authorization: Bearer KEY``
or ``X-API-Key`` header.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from typing import Any, Protocol


class Authenticator(Protocol):
    async def __call__(
        self, payload: Mapping[str, Any] | None, headers: Mapping[str, str]
    ) -> bool: ...


async def accept_all(payload: Mapping[str, Any] | None, headers: Mapping[str, str]) -> bool:
    return True


class ApiKeys:
    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = tuple(k.encode() for k in keys if k)

    async def __call__(self, payload: Mapping[str, Any] | None, headers: Mapping[str, str]) -> bool:
        offered = _offered_key(payload or {}, headers)
        if offered is None:
            return False
        candidate = offered.encode()
        # compare with every key, in constant time, so timing tells nothing about them
        return any([hmac.compare_digest(candidate, key) for key in self._keys])


def authenticator_for(keys: Iterable[str]) -> Authenticator:
    """``ApiKeys`` for the configured keys (blank ones ignored), else ``accept_all``."""
    configured = [key.strip() for key in keys if key.strip()]
    return ApiKeys(configured) if configured else accept_all


def _offered_key(payload: Mapping[str, Any], headers: Mapping[str, str]) -> str | None:
    key = payload.get("apiKey")
    if isinstance(key, str):
        return key
    for source in (payload, headers):
        for name in ("authorization", "Authorization"):
            value = source.get(name)
            if isinstance(value, str) and value[:7].lower() == "bearer ":
                return value[7:].strip()
    header = headers.get("x-api-key")
    return header if isinstance(header, str) else None
