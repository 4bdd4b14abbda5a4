"""Counting each domain's SQL statements and transactions, for ``/metrics``.

Statements per request is what the database layer costs a use case (each is a round
trip); an operator reads it as a rate beside the request rate, and the checkout
benchmark reports it per order (``bench/place_order.py``). ``BEGIN`` is not a
statement here: the driver sends it with the first statement of a transaction, and
each transaction is counted once, when it commits or rolls back. A statement outside any
transaction (``engine.one_statement``: a read, or a new order written in one statement on
PostgreSQL) counts as a statement and no transaction: nothing begins or ends one.
"""

from __future__ import annotations

import weakref
from typing import Any

from prometheus_client import Counter
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import is_one_statement

STATEMENTS = Counter(
    "retailgraph_db_statements",
    "SQL statements a domain ran (a batch insert of many rows is one).",
    ["domain"],
)
TRANSACTIONS = Counter(
    "retailgraph_db_transactions",
    "Database transactions a domain ended, by how: committed or rolled_back.",
    ["domain", "outcome"],
)
# An engine shared by several domains (tests' PostgreSQL) counts under the first.
_counted: weakref.WeakSet[Engine] = weakref.WeakSet()


def count_statements(engine: AsyncEngine, domain: str) -> None:
    """Count what ``engine`` runs under ``domain``."""
    sync_engine = engine.sync_engine
    if sync_engine in _counted:
        return
    _counted.add(sync_engine)
    statements = STATEMENTS.labels(domain=domain)
    committed = TRANSACTIONS.labels(domain=domain, outcome="committed")
    rolled_back = TRANSACTIONS.labels(domain=domain, outcome="rolled_back")

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # SQLite's BEGIN IMMEDIATE (``engine._serialise_sqlite_writers``) goes through the
        # cursor; PostgreSQL's BEGIN does not. Neither is a statement here.
        if not statement.startswith("BEGIN"):
            statements.inc()

    @event.listens_for(sync_engine, "commit")
    def _commit(connection: Connection) -> None:
        if not is_one_statement(connection):
            committed.inc()

    @event.listens_for(sync_engine, "rollback")
    def _rollback(connection: Connection) -> None:
        if not is_one_statement(connection):
            rolled_back.inc()
