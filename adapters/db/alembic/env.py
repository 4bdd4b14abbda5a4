"""Alembic environment shared by every domain; the caller hands in the connection."""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
metadata = config.attributes["target_metadata"]
version_table = config.attributes["version_table"]
_prefix = version_table.removesuffix("alembic_version")


def _owned(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # Domains share a database; each one only looks at its own tables.
    if type_ == "table":
        return bool(name and name.startswith(_prefix))
    return True


context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=version_table,
    include_object=_owned,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
