"""Each domain's SQL statements and transactions, as ``/metrics`` counts them: a statement
per round trip the domain asked for, a transaction per commit or rollback, and never the
``BEGIN`` that starts one (SQLite's ``BEGIN IMMEDIATE`` included)."""

from __future__ import annotations

import uuid

from prometheus_client import REGISTRY
from sqlalchemy import Column, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import one_statement
from adapters.db.statements import count_statements

metadata = MetaData()
notes = Table("counted_note", metadata, Column("id", String(36), primary_key=True))


def _counts(domain: str) -> tuple[float | None, float | None]:
    """Statements run and transactions committed under ``domain``, as exposed."""
    return (
        REGISTRY.get_sample_value("retailgraph_db_statements_total", {"domain": domain}),
        REGISTRY.get_sample_value(
            "retailgraph_db_transactions_total", {"domain": domain, "outcome": "committed"}
        ),
    )


async def test_a_transaction_counts_its_statements_and_once_itself(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    domain = f"counted-{uuid.uuid4().hex[:8]}"
    count_statements(engine, domain)

    async with engine.begin() as conn:
        await conn.execute(insert(notes).values(id="a"))
        await conn.execute(select(notes.c.id))
    assert _counts(domain) == (2, 1)

    async with one_statement(engine) as conn:
        await conn.execute(select(notes.c.id))
    assert _counts(domain) == (3, 1), "a statement outside any transaction ends none"
