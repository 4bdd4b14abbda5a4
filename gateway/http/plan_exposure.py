"""The opt-in ``Apollo-Expose-Query-Plan`` header, in Apollo Router's response shape.

``extensions.apolloQueryPlan`` gets ``{"object": {"kind": "QueryPlan", ...}, "text": ...}``.
The engine's ``Prepared.plan`` is its own business; a plan is shown only when it is (or
carries, as ``query_plan``) a ``gateway.planner.plan.QueryPlan``.
"""

from __future__ import annotations

import importlib
from typing import Any

from gateway.planner.plan import QueryPlan, to_json

HEADER = "apollo-expose-query-plan"


def exposure_mode(value: str | None) -> str | None:
    """``"expose"``, ``"dry-run"`` (plan only, nothing executed) or None."""
    if value is None:
        return None
    value = value.strip().lower()
    if value == "true":
        return "expose"
    if value == "dry-run":
        return "dry-run"
    return None


def query_plan_of(plan: Any) -> QueryPlan | None:
    if isinstance(plan, QueryPlan):
        return plan
    inner = getattr(plan, "query_plan", None)
    return inner if isinstance(inner, QueryPlan) else None


def plan_extension(plan: Any) -> dict[str, Any] | None:
    query_plan = query_plan_of(plan)
    if query_plan is None:
        return None
    extension: dict[str, Any] = {"object": to_json(query_plan)}
    text = _printed(query_plan)
    if text is not None:
        extension["text"] = text
    return extension


def _printed(plan: QueryPlan) -> str | None:
    """The printed plan, when the planner's printer module is there (it is optional here)."""
    try:
        printer = importlib.import_module("gateway.planner.printer")
    except ImportError:
        return None
    for name in ("print_plan", "print_query_plan", "to_text"):
        function = getattr(printer, name, None)
        if callable(function):
            return str(function(plan))
    return None
