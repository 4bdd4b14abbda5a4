"""The four domain subgraphs, by name, as the composition root sees them."""

from __future__ import annotations

import importlib
from types import ModuleType

from sqlalchemy import MetaData

DOMAINS = ("products", "pricing", "inventory", "orders")


def domain_app_module(name: str) -> ModuleType:
    return importlib.import_module(f"domains.{name}.app")


def domain_tables(name: str) -> MetaData:
    """The tables ``name`` owns, as its migrations describe them."""
    module = "repository" if name == "products" else "tables"
    metadata: MetaData = importlib.import_module(f"domains.{name}.{module}").metadata
    return metadata
