"""Fake subgraphs that really validate and execute the gateway's subgraph operations
(graphql-core), refusing a document their schema does not accept as a real one would.

Each subgraph is its own small schema, with ``_entities`` resolved by a function from a
representation to an object (a dict); every other field reads the dict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from inspect import isawaitable
from typing import Any

import orjson
from graphql import build_schema, execute, parse, validate

EntityResolver = Callable[[dict[str, Any]], dict[str, Any] | None]


class FakeSubgraph:
    def __init__(
        self,
        sdl: str,
        root: dict[str, Any],
        entities: EntityResolver | None = None,
        entity_types: tuple[str, ...] = (),
    ) -> None:
        extra = "scalar _Any\n"
        if entity_types:
            extra += f"union _Entity = {' | '.join(entity_types)}\n"
            extra += "extend type Query { _entities(representations: [_Any!]!): [_Entity]! }\n"
        self.schema = build_schema(sdl + "\n" + extra)
        self.root = root
        self.entities = entities
        self.requests: list[dict[str, Any]] = []

    async def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        variables = request.get("variables") or {}
        root = dict(self.root)
        if self.entities is not None:
            resolve = self.entities
            root["_entities"] = lambda info, representations: [resolve(r) for r in representations]
        document = parse(request["query"])
        invalid = validate(self.schema, document)
        if invalid:
            return {"data": None, "errors": [e.formatted for e in invalid]}
        result = execute(
            self.schema,
            document,
            root_value=root,
            variable_values=variables,
            field_resolver=_field,
        )
        if isawaitable(result):
            result = await result
        response: dict[str, Any] = {"data": result.data}
        if result.errors:
            response["errors"] = [e.formatted for e in result.errors]
        return response


def _field(source: Any, info: Any, **arguments: Any) -> Any:
    value = source.get(info.field_name) if isinstance(source, dict) else None
    if callable(value):
        return value(info, **arguments)
    if isinstance(value, Exception):
        raise value
    return value


class FakeSubgraphs:
    """A ``Fetcher`` over ``FakeSubgraph``s, through JSON as a real one would be."""

    def __init__(self, **subgraphs: FakeSubgraph) -> None:
        self.subgraphs = subgraphs
        self.log: list[str] = []

    async def fetch(
        self, service: str, body: bytes, headers: Mapping[str, str], *, mutation: bool = False
    ) -> dict[str, Any]:
        self.log.append(service)
        answer = await self.subgraphs[service].answer(orjson.loads(body))
        decoded: dict[str, Any] = orjson.loads(orjson.dumps(answer))
        return decoded
