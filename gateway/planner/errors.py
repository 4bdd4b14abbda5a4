"""Why an operation cannot be planned."""

from __future__ import annotations


class PlanningError(Exception):
    """The operation cannot be planned against this supergraph (a supergraph defect, or
    an operation that was not validated against the API schema)."""


class OperationNotFound(PlanningError):
    """No operation of that name, or several operations and no name given."""
