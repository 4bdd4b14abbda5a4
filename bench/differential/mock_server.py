"""Mock subgraphs over HTTP: each answers its own fields, from ``mock_data``, and nothing
else. A subgraph asked for an @external field it was not given by a @provides answers
with an error, so a gateway that asks the wrong subgraph is seen."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import uvicorn
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    execute_sync,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bench.differential.mock_data import (
    ERROR_EVERY,
    NULL_EVERY,
    SEEDS,
    Entity,
    key_value,
    scalar_value,
    seed_of,
    stable_hash,
)
from bench.differential.subgraph_sdl import SubgraphSdl, top_level_fields


@dataclass(frozen=True, slots=True)
class Graph:
    """What every subgraph of one supergraph agrees on."""

    # Type -> the top-level fields of any of its keys, in any subgraph.
    key_fields: dict[str, set[str]]
    # Entity interface -> its implementations, sorted: an entity's seed picks its type.
    implementations: dict[str, list[str]]

    @classmethod
    def of(cls, subgraphs: Sequence[SubgraphSdl]) -> Graph:
        key_fields: dict[str, set[str]] = {}
        implementations: dict[str, set[str]] = {}
        for subgraph in subgraphs:
            for type_name, keys in subgraph.keys.items():
                for key in keys:
                    key_fields.setdefault(type_name, set()).update(top_level_fields(key.fields))
            for interface in subgraph.entity_interfaces:
                named = subgraph.schema.get_type(interface)
                assert isinstance(named, GraphQLInterfaceType)
                implementations.setdefault(interface, set()).update(
                    t.name for t in subgraph.schema.get_implementations(named).objects
                )
        return cls(key_fields, {i: sorted(types) for i, types in implementations.items()})

    def interface_of(self, type_name: str) -> str | None:
        for interface, types in self.implementations.items():
            if type_name in types:
                return interface
        return None

    def aligned_seed(self, type_name: str, value_hash: int) -> int:
        """A seed whose entity, asked of its entity interface, is of ``type_name``."""
        interface = self.interface_of(type_name)
        if interface is None:
            return value_hash % SEEDS
        types = self.implementations[interface]
        return (value_hash % (SEEDS // len(types))) * len(types) + types.index(type_name)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One subgraph request and its answer, kept for tracing a gateway's plan."""

    subgraph: str
    request: dict[str, Any]
    answer: dict[str, Any]


class MockSubgraph:
    def __init__(self, subgraph: SubgraphSdl, graph: Graph, log: list[Exchange]) -> None:
        self.subgraph = subgraph
        self.graph = graph
        self.log = log

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._answer(body)
        self.log.append(Exchange(self.subgraph.name, body, answer))
        return answer

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            document = parse(body["query"])
        except GraphQLError as error:
            return {"errors": [error.formatted]}
        invalid = validate(self.subgraph.schema, document)
        if invalid:
            return {"errors": [e.formatted for e in invalid]}
        result = execute_sync(
            self.subgraph.schema,
            document,
            # Every root field, query or mutation, hangs off one root entity.
            root_value=Entity("Query", 0),
            variable_values=body.get("variables") or {},
            operation_name=body.get("operationName"),
            field_resolver=self._resolve,
            type_resolver=_type_of,
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [e.formatted for e in result.errors]
        return answer

    def _resolve(
        self, source: Any, info: GraphQLResolveInfo[Any] | _ProjectionInfo, **arguments: Any
    ) -> Any:
        name = info.field_name
        if name == "_service":
            return {"sdl": self.subgraph.sdl}
        if isinstance(source, dict):
            return source.get(name)
        if name == "_entities":
            return [self._entity(r) for r in arguments["representations"]]
        assert isinstance(source, Entity)
        where = (source.typename, name)
        if where in self.subgraph.external and name not in source.provided:
            if name in self.graph.key_fields.get(source.typename, ()):
                pass
            else:
                raise GraphQLError(f"{self.subgraph.name} does not resolve external {where}")
        key_fields = self.graph.key_fields.get(source.typename, set())
        if name in key_fields:
            scalar = _named(info.return_type)
            if isinstance(scalar, GraphQLScalarType):
                return key_value(name, scalar.name, source.seed)
        required: dict[str, Any] = {}
        requires = self.subgraph.requires.get(where)
        if requires is not None:
            required = self._required(source, requires)
        value_hash = stable_hash(source.typename, source.seed, name, arguments, required)
        provided = self.subgraph.provides.get(where)
        provides = frozenset(top_level_fields(provided)) if provided else frozenset()
        return self._value(info.return_type, value_hash, name, provides, nullable=True)

    def _required(self, source: Entity, requires: str) -> dict[str, Any]:
        """The required values: as sent in the representation, or, where this subgraph
        reached the entity itself (through a @provides), as their owner answers them."""
        selection = parse("{" + requires + "}").definitions[0].selection_set  # type: ignore[attr-defined]
        if source.sent:
            # Only what the field set names is read: a gateway may send more (__typename).
            return dict(_selected(source.sent, selection))
        named = self.subgraph.schema.get_type(source.typename)
        assert isinstance(named, GraphQLObjectType)
        return self._project(source, named, selection)

    def _project(self, source: Entity, named: GraphQLObjectType, selection: Any) -> dict[str, Any]:
        projected: dict[str, Any] = {}
        for node in selection.selections:
            name = node.name.value
            output = named.fields[name].type
            try:
                value = self._resolve(
                    Entity(source.typename, source.seed, provided=frozenset(named.fields)),
                    _ProjectionInfo(name, output),
                )
            except GraphQLError:
                value = None
            if isinstance(value, Entity) and node.selection_set is not None:
                child = self.subgraph.schema.get_type(value.typename)
                assert isinstance(child, GraphQLObjectType)
                value = self._project(value, child, node.selection_set)
            projected[name] = value
        return projected

    def _value(
        self,
        output: GraphQLOutputType,
        value_hash: int,
        field_name: str,
        provides: frozenset[str],
        *,
        nullable: bool,
    ) -> Any:
        if isinstance(output, GraphQLNonNull):
            return self._value(output.of_type, value_hash, field_name, provides, nullable=False)
        if nullable:
            if value_hash % NULL_EVERY == 0:
                return None
            if value_hash % ERROR_EVERY == 1:
                raise GraphQLError(f"{field_name} failed ({self.subgraph.name})")
        if isinstance(output, GraphQLList):
            length = value_hash % 4
            return [
                self._item(output.of_type, stable_hash(value_hash, i), field_name, provides)
                for i in range(length)
            ]
        if isinstance(output, GraphQLScalarType):
            return scalar_value(output.name, field_name, value_hash)
        if isinstance(output, GraphQLEnumType):
            values = list(output.values)
            return values[value_hash % len(values)]
        if isinstance(output, GraphQLObjectType):
            seed = self.graph.aligned_seed(output.name, value_hash)
            return Entity(output.name, seed, provided=provides)
        assert isinstance(output, GraphQLInterfaceType | GraphQLUnionType)
        return self._abstract(output, value_hash, provides)

    def _item(
        self, output: GraphQLOutputType, value_hash: int, field_name: str, provides: frozenset[str]
    ) -> Any:
        # An item of a list is null (never an error) for one hash in NULL_EVERY.
        if not isinstance(output, GraphQLNonNull) and value_hash % NULL_EVERY == 0:
            return None
        inner = output.of_type if isinstance(output, GraphQLNonNull) else output
        return self._value(inner, value_hash, field_name, provides, nullable=False)

    def _abstract(
        self,
        output: GraphQLInterfaceType | GraphQLUnionType,
        value_hash: int,
        provides: frozenset[str],
    ) -> Entity:
        schema: GraphQLSchema = self.subgraph.schema
        if isinstance(output, GraphQLInterfaceType):
            if output.name in self.graph.implementations:
                seed = value_hash % SEEDS
                types = self.graph.implementations[output.name]
                return Entity(types[seed % len(types)], seed, provided=provides)
            candidates = sorted(t.name for t in schema.get_implementations(output).objects)
        else:
            candidates = sorted(t.name for t in output.types)
        chosen = candidates[value_hash % len(candidates)]
        return Entity(chosen, self.graph.aligned_seed(chosen, value_hash // 7), provided=provides)

    def _entity(self, representation: dict[str, Any]) -> Entity | None:
        typename = str(representation.get("__typename"))
        seed = None
        for key_field in sorted(self.graph.key_fields.get(typename, ())):
            seed = seed_of(representation.get(key_field))
            if seed is not None:
                break
        if seed is None:
            raise GraphQLError(f"{self.subgraph.name}: no key in {representation}")
        sent = {k: v for k, v in representation.items() if k != "__typename"}
        if (
            typename in self.graph.implementations
            and typename not in self.subgraph.interface_objects
        ):
            types = self.graph.implementations[typename]
            typename = types[seed % len(types)]
        return Entity(typename, seed, sent=sent)


def _selected(value: Any, selection: Any) -> Any:
    """``value`` cut down to the fields of ``selection``, through lists and objects."""
    if isinstance(value, list):
        return [_selected(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    cut: dict[str, Any] = {}
    for node in selection.selections:
        name = node.name.value
        item = value.get(name)
        cut[name] = item if node.selection_set is None else _selected(item, node.selection_set)
    return cut


@dataclass(frozen=True, slots=True)
class _ProjectionInfo:
    """The two parts of a resolve info that the value functions read."""

    field_name: str
    return_type: GraphQLOutputType


def _named(output: Any) -> Any:
    while isinstance(output, GraphQLNonNull | GraphQLList):
        output = output.of_type
    return output


def _type_of(value: Any, info: Any, abstract: Any) -> str:
    assert isinstance(value, Entity)
    return value.typename


def mock_app(
    subgraphs: Sequence[SubgraphSdl], log: list[Exchange]
) -> tuple[Starlette, dict[str, MockSubgraph]]:
    """One app serving every subgraph of a supergraph under ``/<name>``."""
    graph = Graph.of(subgraphs)
    mocks = {s.name: MockSubgraph(s, graph, log) for s in subgraphs}

    def route(mock: MockSubgraph) -> Route:
        async def endpoint(request: Request) -> JSONResponse:
            return JSONResponse(mock.answer(await request.json()))

        return Route(f"/{mock.subgraph.name}", endpoint, methods=["POST"])

    return Starlette(routes=[route(m) for m in mocks.values()]), mocks


class MockServer:
    """The mock subgraphs served from a thread of this process."""

    def __init__(self, subgraphs: Sequence[SubgraphSdl], port: int) -> None:
        # Every exchange, in order; the caller clears it between operations.
        self.log: list[Exchange] = []
        self.app, self.mocks = mock_app(subgraphs, self.log)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.port = port

    def __enter__(self) -> MockServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("mock subgraphs did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"
