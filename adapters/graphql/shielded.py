"""Resolvers run to their end even when execution stops waiting for them.

graphql-core cancels the pending sibling fields of a field whose error nulls their
parent. A resolver cancelled in the middle of a database statement left its connection
inside a transaction: on SQLite it kept the write lock, so every later write of the
domain waited out the busy timeout and the pool ran dry (one query of a failing
``quote`` beside a dozen reads did it). Shielded, the resolver finishes, its unit of
work commits or rolls back and the connection goes back to the pool; the result nobody
waits for is dropped.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo
from strawberry.extensions import SchemaExtension
from strawberry.utils.await_maybe import AwaitableOrValue


class ShieldedResolvers(SchemaExtension):
    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo[Any],
        *args: str,
        **kwargs: Any,
    ) -> AwaitableOrValue[object]:
        result: object = _next(root, info, *args, **kwargs)
        if inspect.isawaitable(result):
            # A cancelled shield marks the inner result as retrieved: no stray warnings.
            return asyncio.shield(result)
        return result
