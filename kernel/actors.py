"""Who made a change: the client a request came from (and the end user its token named),
or the system itself (a sync from the ERP, a reservation that expired).

A plain value handed to a service with its command: domains record it, they never read a
request to learn it. The subgraph learns it from the identity the gateway signed
(``adapters/graphql/identity.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    # A configured client's name (``storefront``, ``store-berlin``, ``anonymous``), or one
    # of the system's names below.
    client: str
    # The end user or service account the client's token named, when there was one.
    subject: str | None = None


# Steps the ERP integration makes (shipments, cancellations and returns it reports).
ERP_SYNC = Actor("system:erp-sync")
# Any other step the system makes itself, and the steps recorded before actors were.
SYSTEM = Actor("system")
