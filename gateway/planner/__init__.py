"""Turning an operation into a plan of plain data."""

from __future__ import annotations

from gateway.planner.build import build_plan, select_operation
from gateway.planner.cache import PlanCache, document_hash
from gateway.planner.errors import OperationNotFound, PlanningError
from gateway.planner.printer import print_plan

__all__ = [
    "OperationNotFound",
    "PlanCache",
    "PlanningError",
    "build_plan",
    "document_hash",
    "print_plan",
    "select_operation",
]
