"""What the process gives every domain app: where its data lives, the bus and the cache."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from adapters.bus.inprocess import Bus, InProcessBus
from adapters.cache.store import Store, store_from_env
from adapters.db.engine import database_url


@dataclass
class Runtime:
    bus: Bus = field(default_factory=InProcessBus)
    cache: Store = field(default_factory=store_from_env)
    database_urls: dict[str, str] = field(default_factory=dict)
    # Embedded and test runs create tables on start-up; production runs
    # ``retailgraph db upgrade`` as a release step instead.
    migrate_on_start: bool = field(
        default_factory=lambda: os.environ.get("RETAILGRAPH_MIGRATE_ON_START", "1") == "1"
    )

    def database_url(self, domain: str) -> str:
        return self.database_urls.get(domain) or database_url(domain)
