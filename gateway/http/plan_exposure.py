"""The opt-in ``Apollo-Expose-Query-Plan`` header, in Apollo Router's response shape.

``extensions.apolloQueryPlan`` gets ``{"object": {"kind": "QueryPlan", ...}, "text": ...}``,
from the plan the engine shows for the operation (``Engine.query_plan``).
"""

from __future__ import annotations

from typing import Any

from gateway.planner.plan import QueryPlan, to_json
from gateway.planner.printer import print_plan

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


def plan_extension(query_plan: QueryPlan) -> dict[str, Any]:
    return {"object": to_json(query_plan), "text": print_plan(query_plan)}
