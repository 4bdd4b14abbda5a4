"""Debian's Chromium, driven by Playwright, for the pages the gateway serves (GraphiQL,
the console): never a browser Playwright downloads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a headless browser on a machine with no outside network.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("Debian's chromium is not installed; CI needs it (scripts/test.sh)")
    pytest.skip("Debian's chromium is not installed")
