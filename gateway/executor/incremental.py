"""Incremental delivery of a plan with deferred blocks (``@defer``, deferSpec=20220824).

The primary part runs first and is shaped without the deferred fragments; every
deferred block runs as soon as the fetches it depends on are done (a block that needs
nothing of the primary runs beside it from the start), all on the one merged data tree.
Each finished block gives one incremental entry per object at its path that the client
has already received (an object that is null in what was sent gets none); blocks that
finish together go out in one part. A nested block starts once its parent is done, so it
is delivered after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any

import orjson

from gateway.engine import ExecutionResult, GraphQLError
from gateway.executor.merging import merge_into
from gateway.executor.representations import JsonObject, PossibleTypes
from gateway.executor.runner import PlanRun
from gateway.executor.shaping import NullViolation, PathCell, ShapeContext, included
from gateway.executor.steps import DeferredStep, DeferStep

_log = logging.getLogger(__name__)

Located = tuple[tuple[str | int, ...], dict[str, Any], JsonObject]
"""An object at a block's path: its response path, as sent, and as merged."""


async def deliver(
    defer: DeferStep,
    new_run: Callable[[], PlanRun],
    finish_primary: Callable[[PlanRun], Awaitable[ExecutionResult]],
    new_context: Callable[[list[GraphQLError]], ShapeContext],
    possible_types: PossibleTypes,
    variables: Mapping[str, Any],
) -> AsyncGenerator[ExecutionResult, None]:
    """``new_run`` gives runs that share one data tree; ``finish_primary`` shapes the
    primary part from the run that fetched it; ``variables`` are coerced."""
    done: asyncio.Queue[tuple[DeferredStep, PlanRun]] = asyncio.Queue()
    tasks: set[asyncio.Task[None]] = set()
    remaining = 0
    fetched = {i: asyncio.Event() for block in defer.deferred for i in block.depends}
    primary_done = asyncio.Event()

    def start(block: DeferredStep, ready: list[asyncio.Event]) -> None:
        nonlocal remaining
        remaining += 1
        run = new_run()
        run.fetched = fetched
        task = asyncio.create_task(_run_block(block, run, done, ready, primary_done))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    try:
        for block in defer.deferred:
            start(block, [fetched[i] for i in block.depends])
        primary = new_run()
        primary.fetched = fetched
        try:
            await primary.run(defer.primary)
        finally:
            primary_done.set()
        initial = await finish_primary(primary)
        if initial.data is None:
            initial.has_next = False
            yield initial
            return
        # what the client holds so far, apart from what is yielded (a consumer may still
        # be encoding a part when the next one is merged in)
        delivered: dict[str, Any] = orjson.loads(orjson.dumps(initial.data))
        initial.has_next = remaining > 0
        yield initial
        while remaining:
            finished = [await done.get()]
            while not done.empty():
                finished.append(done.get_nowait())
            entries: list[dict[str, Any]] = []
            for block, run in finished:
                remaining -= 1
                if block.condition is None or included(block.condition, variables):
                    entries += _entries(block, run, delivered, possible_types, new_context)
                for child in block.deferred:
                    start(child, [])  # what it depends on is done: its parent is
            if entries or not remaining:
                yield ExecutionResult(None, incremental=entries, has_next=remaining > 0)
    finally:
        for task in tasks:
            task.cancel()


async def _run_block(
    block: DeferredStep,
    run: PlanRun,
    done: asyncio.Queue[tuple[DeferredStep, PlanRun]],
    ready: list[asyncio.Event],
    primary_done: asyncio.Event,
) -> None:
    try:
        await _ready(ready, primary_done)
        await run.run(block.step)
    except Exception as error:  # a defect must not leave the stream waiting forever
        _log.exception("deferred block at %s failed", ".".join(block.query_path))
        run.errors.append(GraphQLError(f"Deferred fetch failed: {error}", "INTERNAL_SERVER_ERROR"))
    finally:
        done.put_nowait((block, run))


async def _ready(events: list[asyncio.Event], fallback: asyncio.Event) -> None:
    """Returns once every event is set, or ``fallback`` is (the primary part is done:
    whatever it did not fetch by then it never will)."""
    if all(event.is_set() for event in events):
        return
    waiting = asyncio.ensure_future(asyncio.gather(*(event.wait() for event in events)))
    finished = asyncio.ensure_future(fallback.wait())
    try:
        await asyncio.wait((waiting, finished), return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
        finished.cancel()


def _entries(
    block: DeferredStep,
    run: PlanRun,
    delivered: dict[str, Any],
    possible_types: PossibleTypes,
    new_context: Callable[[list[GraphQLError]], ShapeContext],
) -> list[dict[str, Any]]:
    if block.shape is None:
        return []
    located = _objects_at(block.query_path, delivered, run.data, possible_types)
    unplaced = [e for e in run.errors if not e.path]
    entries: list[dict[str, Any]] = []
    for index, (path, sent, merged) in enumerate(located):
        depth = len(path)
        errors = [e for e in run.errors if e.path and tuple(e.path[:depth]) == path]
        if index == 0:
            errors = unplaced + errors  # a failed fetch has no path: the first entry says so
        context = new_context(errors)
        try:
            data = block.shape(merged, context, _cell(path))
        except NullViolation as violation:
            context.record(violation)
            data = None
        entry: dict[str, Any] = {"data": data, "path": list(path)}
        if block.label is not None:
            entry["label"] = block.label
        if errors:
            entry["errors"] = [e.to_dict() for e in errors]
        entries.append(entry)
        if isinstance(data, dict):
            merge_into(sent, orjson.loads(orjson.dumps(data)))
    return entries


def _objects_at(
    query_path: tuple[str, ...],
    delivered: dict[str, Any],
    merged: JsonObject,
    possible_types: PossibleTypes,
) -> list[Located]:
    """The objects at ``query_path`` that the client holds (non-null in ``delivered``),
    with their list indexes, beside the merged data the block shapes them from."""
    current: list[tuple[tuple[str | int, ...], Any, Any]] = [((), delivered, merged)]
    for step in query_path:
        following: list[tuple[tuple[str | int, ...], Any, Any]] = []
        for path, sent, value in current:
            if step == "@":
                if isinstance(sent, list) and isinstance(value, list):
                    following += [
                        ((*path, i), s, v)
                        for i, (s, v) in enumerate(zip(sent, value, strict=False))
                    ]
            elif step.startswith("... on "):
                condition = step.removeprefix("... on ")
                typename = value.get("__typename") if isinstance(value, dict) else None
                if typename == condition or typename in possible_types.get(condition, ()):
                    following.append((path, sent, value))
            elif isinstance(sent, dict) and isinstance(value, dict):
                following.append(((*path, step), sent.get(step), value.get(step)))
        current = following
    return [(p, s, v) for p, s, v in current if isinstance(s, dict) and isinstance(v, dict)]


def _cell(path: tuple[str | int, ...]) -> PathCell:
    cell: PathCell = None
    for step in path:
        cell = (step, cell)
    return cell
