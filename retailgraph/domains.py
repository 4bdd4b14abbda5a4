"""The four domain subgraphs, by name, as the composition root sees them."""

from __future__ import annotations

import importlib
from types import ModuleType

DOMAINS = ("products", "pricing", "inventory", "orders")


def domain_app_module(name: str) -> ModuleType:
    return importlib.import_module(f"domains.{name}.app")
