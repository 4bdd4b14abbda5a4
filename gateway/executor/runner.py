"""Running a compiled plan: fetch, batch entities, merge, and collect subgraph errors.

The runner builds one merged JSON tree keyed by response names, exactly as the subgraphs
answered (plus the fields the planner added for keys and ``__typename``). Shaping it into
the client's response is ``shaping``'s job, so nothing here knows the client's selection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import orjson

from gateway.engine import GraphQLError
from gateway.executor.fetching import Fetcher, FetchFailed
from gateway.executor.headers import CORRELATION_HEADER
from gateway.executor.merging import merge_into
from gateway.executor.representations import JsonObject, objects_at, paths_at
from gateway.executor.steps import (
    ConditionStep,
    DeferredStep,
    DeferStep,
    FetchStep,
    FlattenStep,
    ParallelStep,
    SequenceStep,
    SharedFetchStep,
    Step,
    fetch_ids,
)

DOWNSTREAM_ERROR = "DOWNSTREAM_SERVICE_ERROR"
_log = logging.getLogger(__name__)


class PlanRun:
    """One execution of one plan; holds the merged data and the errors so far."""

    __slots__ = (
        "_abstract_types",
        "_fetcher",
        "_headers",
        "_variables",
        "data",
        "errors",
        "fetched",
    )

    def __init__(
        self,
        fetcher: Fetcher,
        variables: Mapping[str, Any],
        headers: Mapping[str, str],
        abstract_types: frozenset[str] = frozenset(),
    ) -> None:
        self._abstract_types = abstract_types
        self._fetcher = fetcher
        self._variables = variables
        self._headers = headers
        self.data: JsonObject = {}
        self.errors: list[GraphQLError] = []
        self.fetched: dict[str, asyncio.Event] | None = None
        """Set by incremental delivery: the fetches deferred blocks wait for, set once
        each is done (or will never be made)."""

    async def run(self, step: Step | None) -> None:
        if step is not None:
            await self._run(step, [self.data], ())

    async def _run(
        self, step: Step, objects: list[JsonObject], path: tuple[str | int, ...]
    ) -> None:
        match step:
            case FetchStep():
                try:
                    if step.representer is None:
                        await self._root_fetch(step, objects)
                    else:
                        await self._entity_fetch(step, objects, (path,))
                finally:
                    self._done(step.ids)
            case SharedFetchStep():
                found = [obj for at in step.paths for obj in objects_at(objects, at)]
                try:
                    paths = tuple(path + at for at in step.paths)
                    await self._entity_fetch(step.step, found, paths)
                finally:
                    self._done(step.step.ids)
            case FlattenStep():
                full_path = path + step.path
                await self._run(step.step, objects_at(objects, step.path), full_path)
            case SequenceStep():
                for inner in step.steps:
                    await self._run(inner, objects, path)
            case ParallelStep():
                await asyncio.gather(*(self._run(inner, objects, path) for inner in step.steps))
            case ConditionStep():
                met = self._variables.get(step.variable)
                chosen, other = (
                    (step.if_step, step.else_step) if met else (step.else_step, step.if_step)
                )
                if self.fetched is not None:
                    self._done(fetch_ids(other))
                if chosen is not None:
                    await self._run(chosen, objects, path)
            case DeferStep():
                # everything, for a client that takes the response in one piece
                early = [d for d in step.deferred if not d.depends]
                late = [d for d in step.deferred if d.depends]
                await asyncio.gather(
                    self._primary_then(step.primary, late, objects, path),
                    *(self._deferred(d, objects, path) for d in early),
                )

    def _done(self, ids: tuple[str, ...] | list[str]) -> None:
        if self.fetched is None:
            return
        for fetch_id in ids:
            event = self.fetched.get(fetch_id)
            if event is not None:
                event.set()

    async def _primary_then(
        self,
        primary: Step | None,
        deferred: list[DeferredStep],
        objects: list[JsonObject],
        path: tuple[str | int, ...],
    ) -> None:
        if primary is not None:
            await self._run(primary, objects, path)
        await asyncio.gather(*(self._deferred(d, objects, path) for d in deferred))

    async def _deferred(
        self, block: DeferredStep, objects: list[JsonObject], path: tuple[str | int, ...]
    ) -> None:
        await self._primary_then(block.step, list(block.deferred), objects, path)

    async def _root_fetch(self, step: FetchStep, objects: list[JsonObject]) -> None:
        variables = {
            name: self._variables[name] for name in step.variable_usages if name in self._variables
        }
        response = await self._fetch(step, step.body_prefix + orjson.dumps(variables) + b"}")
        if response is None:
            return
        data = response.get("data")
        if isinstance(data, dict):
            if step.output_rewrite is not None:
                step.output_rewrite(data)
            for target in objects:
                merge_into(target, data)
        self.subgraph_errors(step.service, response.get("errors"))

    async def _entity_fetch(
        self,
        step: FetchStep,
        objects: list[JsonObject],
        paths: tuple[tuple[str | int, ...], ...],
    ) -> None:
        assert step.representer is not None
        encoded, owners = step.representer.group(objects)
        if not owners:
            return
        variables = b'{"representations":[' + b",".join(encoded) + b"]"
        others = {
            name: self._variables[name] for name in step.variable_usages if name in self._variables
        }
        if others:
            variables += b"," + orjson.dumps(others)[1:-1]
        response = await self._fetch(step, step.body_prefix + variables + b"}}")
        if response is None:
            return
        data = response.get("data")
        entities = data.get("_entities") if isinstance(data, dict) else None
        if isinstance(entities, list) and len(entities) == len(owners):
            abstract = self._abstract_types
            typed: set[int] = set()
            if step.output_rewrite is not None:
                # Output rewrites of fields aliased per type go by the concrete type each
                # object was sent as; an @interfaceObject subgraph answers with the
                # interface's name, or with no __typename at all.
                for at, (entity, targets) in enumerate(zip(entities, owners, strict=True)):
                    if isinstance(entity, dict):
                        typename = entity.get("__typename")
                        if typename is None or typename in abstract:
                            entity["__typename"] = targets[0].get("__typename")
                            typed.add(at)
                step.output_rewrite(entities)
            for at, (entity, targets) in enumerate(zip(entities, owners, strict=True)):
                if isinstance(entity, dict):
                    if at in typed or entity.get("__typename") in abstract:
                        # the object keeps the concrete type it already had
                        entity = {k: v for k, v in entity.items() if k != "__typename"}
                    for target in targets:
                        merge_into(target, entity)
        elif entities is not None or not response.get("errors"):
            self.errors.append(
                GraphQLError(
                    f"Subgraph '{step.service}' returned {_count(entities)} entities "
                    f"for {len(owners)} representations",
                    "SUBREQUEST_MALFORMED_RESPONSE",
                    extensions={"serviceName": step.service},
                )
            )
        errors = response.get("errors")
        if errors:
            self.subgraph_errors(step.service, errors, _EntityPaths(self.data, paths, owners))

    async def _fetch(self, step: FetchStep, body: bytes) -> dict[str, Any] | None:
        try:
            return await self._fetcher.fetch(
                step.service, body, self._headers, mutation=step.mutation
            )
        except FetchFailed as failure:
            code, message = failure.code, failure.message
        except Exception as error:  # a fetcher's defect must not fail the whole request
            code = "SUBREQUEST_HTTP_ERROR"
            message = f"Fetch from '{step.service}' failed: {type(error).__name__}: {error}"
        _log.warning(
            "subgraph fetch failed: %s %s (%s), correlation id %s",
            step.service,
            code,
            message,
            self._headers.get(CORRELATION_HEADER),
        )
        self.errors.append(GraphQLError(message, code, extensions={"serviceName": step.service}))
        return None

    def subgraph_errors(
        self, service: str, errors: Any, entity_paths: _EntityPaths | None = None
    ) -> None:
        """Records ``service``'s GraphQL ``errors`` (as it sent them) against this run."""
        if not isinstance(errors, list):
            return
        for error in errors:
            if not isinstance(error, dict):
                continue
            given = error.get("extensions")
            extensions = dict(given) if isinstance(given, dict) else {}
            code = extensions.pop("code", None)
            extensions["serviceName"] = service
            path = error.get("path")
            client_paths: list[tuple[str | int, ...] | None] = [None]
            if isinstance(path, list) and path:
                if entity_paths is not None:
                    client_paths = [*entity_paths.client_paths(path)] or [None]
                else:
                    client_paths = [tuple(path)]
            for client_path in client_paths:
                self.errors.append(
                    GraphQLError(
                        str(error.get("message", "Unknown error")),
                        code if isinstance(code, str) else DOWNSTREAM_ERROR,
                        path=client_path,
                        extensions=extensions,
                    )
                )


class _EntityPaths:
    """Maps ``["_entities", i, ...]`` to the client's paths of representation ``i``'s objects.

    A deduplicated representation stands for several objects, and its error is reported at
    each of their paths, as Apollo Gateway and Hive Gateway report it: every one of those
    objects is missing what failed.
    """

    __slots__ = ("_by_id", "_owners", "_paths", "_root")

    def __init__(
        self,
        root: JsonObject,
        paths: tuple[tuple[str | int, ...], ...],
        owners: list[list[JsonObject]],
    ) -> None:
        self._root = root
        self._paths = paths
        self._owners = owners
        self._by_id: dict[int, list[str | int]] | None = None

    def client_paths(self, path: list[Any]) -> list[tuple[str | int, ...]]:
        if len(path) < 2 or path[0] != "_entities" or not isinstance(path[1], int):
            return []
        if not 0 <= path[1] < len(self._owners):
            return []
        if self._by_id is None:
            self._by_id = {}
            for flattened in self._paths:
                for key, at in paths_at(self._root, flattened).items():
                    self._by_id.setdefault(key, at)
        prefixes = (self._by_id.get(id(owner)) for owner in self._owners[path[1]])
        found = [(*prefix, *path[2:]) for prefix in prefixes if prefix is not None]
        return list(dict.fromkeys(found))  # an object reached through two Flattens once


def _count(entities: Any) -> int:
    return len(entities) if isinstance(entities, list) else 0
