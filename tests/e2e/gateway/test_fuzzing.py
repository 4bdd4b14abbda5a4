"""Schemathesis through the real gateway finds no server errors and no internal errors."""

from __future__ import annotations

import asyncio
from typing import Any

from schemathesis.checks import positive_data_acceptance

from gateway.app import create_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.supergraph.compose import compose_from_apps
from tests.e2e.gateway.subgraphs import subgraph_apps
from tests.fuzzing import FUZZ_SETTINGS, graphql_schema, no_internal_errors


def _gateway() -> Any:
    apps = subgraph_apps()
    supergraph = asyncio.run(compose_from_apps(apps))
    subgraphs = {name: SubgraphOptions(app=app) for name, app in apps.items()}
    return create_app(FederatedEngine(supergraph, subgraphs=subgraphs))


schema = graphql_schema(_gateway())


@schema.parametrize()
@FUZZ_SETTINGS
def test_fuzzed_operations_through_the_gateway_get_no_server_errors(case: Any) -> None:
    # Rejecting out-of-range input is the subgraph's right (positive_data_acceptance would
    # flag it); internal errors and 5xx are what must never happen.
    case.call_and_validate(
        additional_checks=[no_internal_errors], excluded_checks=[positive_data_acceptance]
    )
