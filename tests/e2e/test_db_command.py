"""`retailgraph db upgrade` migrates every domain's database, once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from retailgraph.cli import app
from retailgraph.domains import DOMAINS

runner = CliRunner()
ROOT = Path(__file__).parents[2]
# Each domain's newest migration: <domain>_<number>_<what>.py is revision <domain>_<number>.
LATEST = {
    name: "_".join(
        sorted(p.stem for p in (ROOT / "domains" / name / "migrations").glob(f"{name}_*.py"))[
            -1
        ].split("_")[:2]
    )
    for name in DOMAINS
}


def test_db_upgrade_brings_every_domain_to_its_latest_migration_and_is_safe_to_repeat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name in DOMAINS:
        monkeypatch.setenv(f"{name.upper()}_DATABASE_URL", f"sqlite:///{tmp_path / name}.db")

    first = runner.invoke(app, ["db", "upgrade"])
    again = runner.invoke(app, ["db", "upgrade"])

    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert first.output.splitlines() == [f"{name}: up to date" for name in DOMAINS]
    for name in DOMAINS:
        with sqlite3.connect(tmp_path / f"{name}.db") as db:
            (version,) = db.execute(f"SELECT version_num FROM {name}_alembic_version").fetchone()
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert version == LATEST[name]
        assert f"{name}_outbox" in tables
