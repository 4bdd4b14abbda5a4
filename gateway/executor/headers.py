"""The headers every subgraph fetch of one client request carries."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping

from gateway.security.identity import IDENTITY_HEADER

CORRELATION_HEADER = "x-correlation-id"
DEFAULT_FORWARDED = ("authorization",)


def subgraph_headers(
    client_headers: Mapping[str, str], forwarded: Collection[str] = DEFAULT_FORWARDED
) -> dict[str, str]:
    """JSON in and out, the client's correlation id (or a new one), and allowed headers.

    ``forwarded`` holds lower-case names; client header names match case-insensitively.
    A client's ``x-retailgraph-caller`` is never passed on, whatever ``forwarded`` lists:
    only the gateway writes it, signed (``security/identity.py``).
    """
    headers = {"content-type": "application/json", "accept": "application/json"}
    correlation_id = None
    for name, value in client_headers.items():
        if "\r" in value or "\n" in value:
            continue  # never let a forwarded value split the subgraph request
        lower = name.lower()
        if lower == CORRELATION_HEADER:
            correlation_id = value
        elif lower in forwarded and lower != IDENTITY_HEADER:
            headers[lower] = value
    headers[CORRELATION_HEADER] = correlation_id or uuid.uuid4().hex
    return headers
