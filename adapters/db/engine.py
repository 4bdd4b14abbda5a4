"""Async engines for PostgreSQL (production) and SQLite (the embedded default)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)

# The connections a process keeps per PostgreSQL database unless the settings say.
DEFAULT_POOL_SIZE = 30


@dataclass(frozen=True, slots=True)
class DatabaseLocations:
    """Where each domain keeps its tables: its own URL, else the shared one, else its own
    SQLite file in ``data_dir`` (the embedded default)."""

    data_dir: Path | None = None
    shared: str | None = None
    per_domain: Mapping[str, str] = field(default_factory=dict)
    # The connections a process keeps per PostgreSQL database (``create_engine``).
    pool_size: int = DEFAULT_POOL_SIZE

    def engine(self, domain: str) -> AsyncEngine:
        """A new engine on the domain's database, with this deployment's pool size."""
        return create_engine(self.url(domain), pool_size=self.pool_size)

    def url(self, domain: str) -> str:
        url = self.per_domain.get(domain) or self.shared
        if url:
            return normalise_url(url)
        if self.data_dir is None:
            raise LookupError(f"no database is configured for {domain}")
        folder = self.data_dir.expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{folder / domain}.db"


def normalise_url(url: str) -> str:
    """Accept the usual ``postgresql://`` and ``sqlite://`` spellings and pick the async driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(
    url: str, *, schema: str | None = None, pool_size: int = DEFAULT_POOL_SIZE, **options: Any
) -> AsyncEngine:
    """An engine whose transactions are safe for concurrent writers on both backends.

    ``schema`` puts a PostgreSQL connection's ``search_path`` on that schema, which is how
    tests get a private, disposable database on the shared server. ``pool_size``: the
    PostgreSQL connections kept (SQLite keeps SQLAlchemy's own pool).
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **options)
        _serialise_sqlite_writers(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    # Connections are kept, not reopened: at 32 concurrent checkouts a pool of 10 with
    # overflow opened and closed a connection (TLS negotiation, statement preparation)
    # on most transactions of the busiest domain, and a pool of 20 with 10 overflow
    # still did (3% of the orders process's CPU in asyncpg's connect): the pool closes
    # an overflow connection as soon as it is returned. The same 30 connections at most
    # (``[database] pool_size``), all kept once opened.
    options.setdefault("pool_size", pool_size)
    options.setdefault("max_overflow", 0)
    # No ping before each checkout from the pool (a round trip per transaction, 10 to
    # 18% of a checkout subgraph's CPU): a connection the server dropped fails its first
    # statement, the pool discards it and every other connection it opened before
    # (``invalidate_pool_on_disconnect``), and that one request answers
    # SERVICE_UNAVAILABLE.
    options.setdefault("pool_pre_ping", False)
    return create_async_engine(url, connect_args=connect_args, **options)


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    # SQLite has no SELECT ... FOR UPDATE. Taking the write lock when the transaction
    # begins (BEGIN IMMEDIATE) makes read-check-write sequences atomic, which is what
    # stops two checkouts from both seeing the last unit.
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not is_one_statement(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


# The execution option of a connection whose statements run outside any transaction
# (``one_statement``).
ONE_STATEMENT = "retailgraph_one_statement"


def is_one_statement(connection: Connection) -> bool:
    return bool(connection.get_execution_options().get(ONE_STATEMENT))


@contextlib.asynccontextmanager
async def one_statement(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for work made of a single statement, run outside any transaction.

    A single statement sees one snapshot of the database on its own, on both backends,
    and a write made of one statement is stored whole or not at all: a transaction
    around it would only add round trips (PostgreSQL: BEGIN and ROLLBACK or COMMIT, two
    of the three) and, on SQLite, the write lock every transaction here takes (``BEGIN
    IMMEDIATE``). Each statement on it is on its own: a second sees another snapshot,
    and a failure in it leaves the first one's writes stored.
    """
    options: dict[str, Any] = {ONE_STATEMENT: True}
    if not is_sqlite(engine):
        # asyncpg's autocommit is a flag of the client: setting it and its reset when the
        # connection returns to the pool send nothing. (SQLite's connections are in
        # autocommit already: the driver's own BEGIN is off, ``_serialise_sqlite_writers``.)
        options["isolation_level"] = "AUTOCOMMIT"
    async with engine.connect() as conn:
        yield await conn.execution_options(**options)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


@contextlib.asynccontextmanager
async def bounded_read(
    engine: AsyncEngine, *, statement_timeout: float
) -> AsyncIterator[AsyncConnection]:
    """A connection whose statements PostgreSQL cancels after ``statement_timeout`` seconds: for the
    reads a monitoring task repeats, which must never pile up behind a slow database.
    (SQLite has no such setting; the caller bounds its wait with asyncio instead.)"""
    async with engine.connect() as conn:
        if not is_sqlite(engine):
            milliseconds = max(1, int(statement_timeout * 1000))
            await conn.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
        yield conn
