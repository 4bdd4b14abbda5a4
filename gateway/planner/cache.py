"""Plans cached per (document, operation name): planning happens once per operation."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from threading import Lock

from graphql import DocumentNode

from gateway.planner.build import build_plan
from gateway.planner.plan import QueryPlan
from gateway.supergraph.model import Supergraph


def document_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


class PlanCache:
    """A bounded LRU of plans for one supergraph; a new supergraph means a new cache."""

    def __init__(self, supergraph: Supergraph, max_size: int = 1024) -> None:
        self.supergraph = supergraph
        self.max_size = max_size
        self._plans: OrderedDict[tuple[str, str | None], QueryPlan] = OrderedDict()
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._plans)

    def get(self, key: str, document: DocumentNode, operation_name: str | None) -> QueryPlan:
        """The plan for ``document``; ``key`` identifies it (e.g. ``document_hash(source)``)."""
        cache_key = (key, operation_name)
        with self._lock:
            plan = self._plans.get(cache_key)
            if plan is not None:
                self._plans.move_to_end(cache_key)
                return plan
        plan = build_plan(self.supergraph, document, operation_name)
        with self._lock:
            self._plans[cache_key] = plan
            if len(self._plans) > self.max_size:
                self._plans.popitem(last=False)
        return plan
