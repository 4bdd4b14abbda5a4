"""Schema migrations with Alembic: one history per domain, in ``domains/<name>/migrations``.

Each domain keeps its own version table (``<domain>_alembic_version``), so the domains
can share one PostgreSQL database and still upgrade independently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

_ALEMBIC_DIR = Path(__file__).parent / "alembic"
_DOMAINS_DIR = Path(__file__).resolve().parents[2] / "domains"


def _config(domain: str, metadata: MetaData, connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_ALEMBIC_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(_DOMAINS_DIR / domain / "migrations"))
    config.attributes["connection"] = connection
    config.attributes["version_table"] = f"{domain}_alembic_version"
    config.attributes["target_metadata"] = metadata
    return config


async def upgrade(
    engine: AsyncEngine, domain: str, metadata: MetaData, revision: str = "head"
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.upgrade(_config(domain, metadata, sync), revision)
        )


async def check(engine: AsyncEngine, domain: str, metadata: MetaData) -> None:
    """Raise when the models hold changes that no migration ships."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.check(_config(domain, metadata, sync)))


async def revision(engine: AsyncEngine, domain: str, metadata: MetaData, message: str) -> None:
    """Write a new migration for ``domain`` from the difference between models and database."""
    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.revision(
                _config(domain, metadata, sync), message=message, autogenerate=True
            )
        )
