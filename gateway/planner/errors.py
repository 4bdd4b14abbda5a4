"""Why an operation cannot be planned."""

from __future__ import annotations


class PlanningError(Exception):
    """The operation cannot be planned against this supergraph (a supergraph defect, or
    an operation that was not validated against the API schema)."""


class PlanningBudgetExceeded(PlanningError):
    """Planning took more steps than the budget allows: the operation is too complex."""


class OperationNotFound(PlanningError):
    """No operation of that name, or several operations and no name given."""
