"""Who may use a field, declared on the subgraph schemas with Federation's access-control
directives; the gateway enforces them (``gateway/authorization.py``).

Scopes name a kind of work: ``orders:place`` (checkout), ``orders:read`` (order data),
``orders:manage``, ``erp:manage``, ``pricing:manage``, ``products:manage``,
``inventory:manage`` and ``inventory:reserve`` (back-office steps). The ``operator``
scope holds them all. The catalogue (products, prices, promotions, availability,
locations) needs none: the anonymous client reads it. ``docs/security.md`` maps each
scope to the fields it opens.

Store tools (clients with locations) see the orders and stock of their own locations
only: a field that answers about one location, or spans many, carries
``@policy(policies: [["location"]])``, which the gateway evaluates against the field's
``locationId`` argument (``gateway/security/policies.py``). The subgraph filters what the
gateway cannot judge from the operation (one order by its id) with the verified caller
(``adapters/graphql/identity.py``).
"""

from __future__ import annotations

from strawberry.federation.schema_directives import Policy, RequiresScopes

OPERATOR = "operator"
LOCATION_POLICY = "location"


def requires(scope: str) -> list[object]:
    """The directives of a field open to holders of ``scope``, or of the operator scope."""
    return [RequiresScopes(scopes=[[scope], [OPERATOR]])]


def own_locations() -> list[object]:
    """The directive of a field a store tool may use only for its own locations: the
    one its ``locationId`` argument names; a field without one is closed to store tools."""
    return [Policy(policies=[[LOCATION_POLICY]])]
