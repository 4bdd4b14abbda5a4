"""Turning an operation into a plan of plain data."""

from __future__ import annotations

from gateway.planner.build import DEFAULT_PLANNING_BUDGET, build_plan, select_operation
from gateway.planner.cache import PlanCache, document_hash
from gateway.planner.errors import OperationNotFound, PlanningBudgetExceeded, PlanningError
from gateway.planner.printer import print_plan

__all__ = [
    "DEFAULT_PLANNING_BUDGET",
    "OperationNotFound",
    "PlanCache",
    "PlanningBudgetExceeded",
    "PlanningError",
    "build_plan",
    "document_hash",
    "print_plan",
    "select_operation",
]
