"""Fuzzing the orders subgraph: no input, however odd, gets a server error."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import settings
from schemathesis.checks import not_a_server_error, positive_data_acceptance

from adapters.bus.inprocess import InProcessBus
from adapters.cache.store import MemoryStore
from adapters.runtime import Runtime
from domains.orders.app import create_app
from tests.fuzzing import FUZZ_SETTINGS, graphql_schema, junk_representations, no_internal_errors
from tests.integration.orders.conftest import Subgraph, make_order

# Schemathesis loads the schema at import and runs the app (and its lifespan) on its own
# loop, so the app is built here, on a SQLite file in a directory removed at exit.
_DATABASE_DIR = Path(tempfile.mkdtemp(prefix="orders-fuzz-"))
atexit.register(shutil.rmtree, _DATABASE_DIR, ignore_errors=True)
_APP = create_app(
    Runtime(
        bus=InProcessBus(),
        cache=MemoryStore(),
        database_urls={"orders": f"sqlite+aiosqlite:///{_DATABASE_DIR / 'fuzz.db'}"},
        migrate_on_start=True,
    )
)
schema = graphql_schema(_APP)


@schema.parametrize()
@settings(FUZZ_SETTINGS, max_examples=12)
def test_fuzzed_operations_never_get_a_server_error(case: Any) -> None:
    # Schemathesis counts every resolver error it cannot classify (NOT_FOUND,
    # INVALID_TRANSITION) as a server failure; a coded domain error is the right answer
    # to junk input, so no_internal_errors judges those instead.
    case.call_and_validate(
        additional_checks=[no_internal_errors],
        excluded_checks=[not_a_server_error, positive_data_acceptance],
    )


async def test_junk_entity_representations_never_get_a_server_error(subgraph: Subgraph) -> None:
    order = await make_order(subgraph.domain)
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename "
        "... on Order { id status lines { sku } } "
        "... on Product { sku recentOrders(first: 2) { id } } "
        "... on Location { id recentOrders(first: 1) { id } } } }"
    )
    batches = junk_representations(
        {"Order": ["id"], "Product": ["sku"], "Location": ["id"]}, rounds=80
    )
    batches.append([{"__typename": "Order", "id": order.id}, {"__typename": "Order", "id": 5}])
    for batch in batches:
        response = await subgraph.client.post(
            "/graphql", json={"query": query, "variables": {"r": batch}}
        )
        assert response.status_code < 500, response.text
        errors = response.json().get("errors") or []
        internal = [e for e in errors if e["extensions"]["code"] == "INTERNAL_SERVER_ERROR"]
        assert not internal, (batch, internal)
