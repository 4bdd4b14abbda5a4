"""The base of every domain error: a message for people and a code for programs."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the business was broken by the request, not by the server.

    The GraphQL layer turns it into an error whose ``extensions.code`` is ``code``.
    """

    code: str = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    @property
    def extensions(self) -> dict[str, Any]:
        """``code`` and the scalar details: graphql-core copies these onto the GraphQL
        error, which is all the WebSocket transport formats."""
        scalars = (str, int, float, bool)
        details = {k: v for k, v in self.details.items() if v is None or isinstance(v, scalars)}
        return {"code": self.code, **details}


class NotFound(DomainError):
    code = "NOT_FOUND"


class InvalidInput(DomainError):
    code = "BAD_USER_INPUT"


class Conflict(DomainError):
    code = "CONFLICT"
