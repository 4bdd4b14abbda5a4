"""Schemathesis fuzzing of a GraphQL app, strict about server errors.

Schemathesis only flags 5xx responses; a GraphQL server answers 200 with an internal error
in the body, so ``no_internal_errors`` flags those too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, positive_data_acceptance
from schemathesis.python.asgi import shutdown_lifespans

FUZZ_SETTINGS = settings(
    max_examples=40, suppress_health_check=list(HealthCheck), deadline=None, database=None
)


def graphql_schema(app: Any, path: str = "/graphql") -> Any:
    return schemathesis.graphql.from_asgi(path, app)


def no_internal_errors(ctx: Any, response: Any, case: Any) -> None:
    assert_no_internal_errors(response)


def assert_no_internal_errors(response: Any) -> None:
    """No 5xx, and every GraphQL error carries a client-facing code (httpx or requests)."""
    assert response.status_code < 500, f"server error {response.status_code}: {response.text}"
    body = response.json()
    errors = body.get("errors") or [] if isinstance(body, dict) else []
    internal = [
        e
        for e in errors
        if (e.get("extensions") or {}).get("code") in (None, "INTERNAL_SERVER_ERROR")
    ]
    assert not internal, f"errors without a client-facing code: {internal}"


def fuzz_operations(
    app: Any, *, examples: int = 25, only: Collection[str] | None = None
) -> list[str]:
    """Fuzz every operation of ``app``'s schema (or those labelled in ``only``, such as
    ``Mutation.placeOrder``); return the labels of those fuzzed.

    Schemathesis' ``@schema.parametrize()`` breaks on this pytest version, so each
    operation's case strategy runs under hypothesis here. The app (and its lifespan) runs
    on schemathesis' own loop: build it on a SQLite file under ``tmp_path``.
    """
    operations = [result.ok() for result in graphql_schema(app).get_all_operations()]
    if only is not None:
        operations = [operation for operation in operations if operation.label in only]
    try:
        for operation in operations:
            _fuzz(operation, examples)
    finally:
        # Schemathesis keeps a started lifespan until the process ends; end it with the
        # test, so the domain's background tasks stop polling a deleted database.
        shutdown_lifespans()
    return [operation.label for operation in operations]


def _fuzz(operation: Any, examples: int) -> None:
    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(case=operation.as_strategy())
    def fuzz(case: Any) -> None:
        # Schemathesis counts every resolver error as a server (or a refused-client)
        # failure; a coded domain error is the right answer to junk input, so
        # no_internal_errors judges responses instead.
        case.call_and_validate(
            additional_checks=[no_internal_errors],
            excluded_checks=[not_a_server_error, positive_data_acceptance],
        )

    fuzz()


def run_apart(prepare: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``prepare()`` (seeding a fuzzed app's database) on its own thread and loop:
    the test session's loop must stay untouched."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, prepare()).result()


_JUNK: list[Any] = [
    None,
    0,
    -1,
    2**63,
    1.5,
    "",
    "x" * 5000,
    "'; DROP TABLE x; --",
    "🛒",
    [],
    {},
    {"nested": [1]},
    True,
]


def junk_representations(
    entity_keys: dict[str, list[str]], rounds: int = 150, seed: int = 20261122
) -> list[list[Any]]:
    """Batches of ``_entities`` representations, valid and broken, reproducible by seed.

    Schemathesis leaves ``_entities`` alone, yet it is the field every gateway calls most:
    wrong types, unknown and missing keys, unknown typenames, non-objects and big batches.
    """
    import random

    rng = random.Random(seed)
    typenames = sorted(entity_keys)
    batches: list[list[Any]] = []
    for _ in range(rounds):
        batch: list[Any] = []
        for _ in range(rng.choice((1, 2, 5, 50))):
            roll = rng.random()
            if roll < 0.05:
                batch.append(rng.choice(_JUNK))
                continue
            typename: Any = (
                rng.choice(typenames)
                if roll > 0.15
                else rng.choice(["Nope", "", None, 7, "Query", "_Service"])
            )
            representation: dict[str, Any] = {"__typename": typename}
            for key in entity_keys.get(typename, ["id"]) if isinstance(typename, str) else []:
                if rng.random() < 0.1:
                    continue  # a missing key field
                representation[key] = rng.choice([*_JUNK, f"k-{rng.randrange(10**6)}"])
            batch.append(representation)
        batches.append(batch)
    return batches
