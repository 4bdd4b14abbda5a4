"""Who may use a field, declared on the subgraph schemas with Federation's access-control
directives; the gateway enforces them (``gateway/authorization.py``).

Scopes name a kind of work: ``orders:place`` (checkout), ``orders:read`` (order data),
``orders:manage``, ``erp:manage``, ``pricing:manage``, ``products:manage``,
``inventory:manage`` and ``inventory:reserve`` (back-office steps). The ``operator``
scope holds them all. The catalogue (products, prices, promotions, availability,
locations) needs none: the anonymous client reads it. ``docs/security.md`` maps each
scope to the fields it opens.
"""

from __future__ import annotations

from strawberry.federation.schema_directives import RequiresScopes

OPERATOR = "operator"


def requires(scope: str) -> list[object]:
    """The directives of a field open to holders of ``scope``, or of the operator scope."""
    return [RequiresScopes(scopes=[[scope], [OPERATOR]])]
