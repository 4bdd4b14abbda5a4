"""The embedded mode's data folder does not depend on the current directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from retailgraph.settings import SettingsError, load_settings
from retailgraph.wiring import databases


def test_the_embedded_databases_are_in_the_users_data_folder_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("RETAILGRAPH_DATA_DIR", "DATABASE_URL", "ORDERS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    urls = []
    for directory in (tmp_path / "one", tmp_path / "two"):
        directory.mkdir()
        monkeypatch.chdir(directory)
        urls.append(databases(load_settings()).url("orders"))
    assert urls == [f"sqlite+aiosqlite:///{tmp_path / 'data' / 'retailgraph' / 'orders.db'}"] * 2


def test_a_relative_data_folder_setting_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RETAILGRAPH_DATA_DIR", "state")
    assert load_settings().database.data_dir == tmp_path / "state"


def test_a_domain_database_url_wins_over_the_shared_one_and_the_data_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://127.0.0.1/shared")
    monkeypatch.setenv("ORDERS_DATABASE_URL", "postgresql://127.0.0.1/orders")
    located = databases(load_settings())
    assert located.url("orders") == "postgresql+asyncpg://127.0.0.1/orders"
    assert located.url("pricing") == "postgresql+asyncpg://127.0.0.1/shared"


async def test_each_process_keeps_the_postgresql_connections_the_settings_give(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://127.0.0.1/shared")
    monkeypatch.setenv("RETAILGRAPH_DATABASE__POOL_SIZE", "12")
    engine = databases(load_settings()).engine("inventory")
    try:
        assert engine.pool.size() == 12  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


def test_a_pool_of_no_connections_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAILGRAPH_DATABASE__POOL_SIZE", "0")
    with pytest.raises(SettingsError, match="pool_size"):
        load_settings()
