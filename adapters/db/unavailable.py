"""Telling a database that cannot serve now from a bug: the first is SERVICE_UNAVAILABLE.

A subgraph whose database refuses connections (PostgreSQL past ``max_connections``:
"sorry, too many clients already"; a server restarting; a closed port), drops them, or
whose pool has no connection to give within its timeout has not failed the request: the
client may send it again shortly. These arrive as the driver's exception (asyncpg's
``TooManyConnectionsError`` under SQLAlchemy's ``DBAPIError``), SQLAlchemy's own
(``OperationalError``, ``InterfaceError``, the pool's ``TimeoutError``), or the socket's
(``ConnectionRefusedError``, a connect timeout), so the whole chain is looked at.
"""

from __future__ import annotations

import errno
import socket

from sqlalchemy import exc

# SQLSTATE classes that say the database cannot be used now, not that the statement is
# wrong: connection exceptions (08), invalid authorization (28: a role refused), the
# database missing (3D), insufficient resources (53: too many connections, disk full),
# operator intervention (57P: shutting down, starting up).
_UNAVAILABLE_SQLSTATES = ("08", "28", "3D", "53", "57P")
# How deep a chain of causes is followed (SQLAlchemy wraps the adapter, which wraps
# the driver: three levels).
_MAX_CAUSES = 8

_UNAVAILABLE_TYPES: tuple[type[BaseException], ...] = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,  # the pool's: no connection within pool_timeout
    ConnectionError,  # refused, reset, aborted
    TimeoutError,  # connecting took too long
    socket.gaierror,  # the host name does not resolve
)
_UNREACHABLE = (errno.ENETUNREACH, errno.EHOSTUNREACH)


def database_unavailable(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) says the database cannot serve now."""
    seen: BaseException | None = error
    for _ in range(_MAX_CAUSES):
        if seen is None:
            return False
        if isinstance(seen, _UNAVAILABLE_TYPES):
            return True
        if isinstance(seen, exc.DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, OSError) and seen.errno in _UNREACHABLE:
            return True
        sqlstate = getattr(seen, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
