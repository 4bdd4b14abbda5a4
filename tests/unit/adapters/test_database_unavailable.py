"""Which failures say the database cannot serve now (SERVICE_UNAVAILABLE), and which are
bugs (INTERNAL_SERVER_ERROR)."""

from __future__ import annotations

import pytest
from asyncpg.exceptions import CannotConnectNowError, TooManyConnectionsError
from sqlalchemy import exc

from adapters.db.unavailable import database_unavailable


def wrapped(driver_error: Exception) -> exc.DBAPIError:
    """As SQLAlchemy raises a driver's error: a DBAPIError caused by it."""
    try:
        raise exc.DBAPIError("connect", None, Exception(str(driver_error))) from driver_error
    except exc.DBAPIError as error:
        return error


@pytest.mark.parametrize(
    "error",
    [
        wrapped(TooManyConnectionsError("sorry, too many clients already")),
        wrapped(CannotConnectNowError("the database system is starting up")),
        TooManyConnectionsError("sorry, too many clients already"),
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9)"),
        TimeoutError(),
        exc.TimeoutError("QueuePool limit of size 20 overflow 10 reached"),
        exc.OperationalError("connect", None, Exception("unable to open database file")),
        exc.InterfaceError("select", None, Exception("connection is closed")),
    ],
    ids=repr,
)
def test_a_database_that_cannot_serve_now_is_unavailable(error: Exception) -> None:
    assert database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("a bug"),
        KeyError("sku"),
        FileNotFoundError("settings.toml"),
        exc.IntegrityError("insert", None, Exception("duplicate key")),
        exc.ProgrammingError("select", None, Exception("syntax error")),
    ],
    ids=repr,
)
def test_a_bug_is_not_unavailability(error: Exception) -> None:
    assert not database_unavailable(error)
