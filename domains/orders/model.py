"""The orders domain rules (pure: standard library only)."""

from __future__ import annotations
