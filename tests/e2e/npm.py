"""npm packages the end-to-end tests drive (graphql-http's audit, Apollo Client), each
installed once from its lock file into a cache folder keyed by the files, so the
repository holds no node_modules. Without node and npm a test using them skips, except
under CI=true, where it fails."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest


def installed(source: Path, files: Sequence[str], name: str) -> Path:
    """A folder holding ``files`` (from ``source``) and their ``npm ci``."""
    in_ci = os.environ.get("CI") == "true"
    if not (shutil.which("node") and shutil.which("npm")):
        message = f"node and npm are needed for {name}"
        if in_ci:
            pytest.fail(message)
        pytest.skip(message)
    digest = hashlib.sha256(b"".join((source / f).read_bytes() for f in files)).hexdigest()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    target = cache / "retailgraph" / f"{source.name}-{digest[:16]}"
    if (target / "node_modules" / ".package-lock.json").exists():
        return target
    # Install beside the target, then rename: parallel test runs never see half an install.
    staging = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for file in files:
        shutil.copy(source / file, staging / file)
    try:
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=staging,
            check=True,
            capture_output=True,
            timeout=300,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(staging, ignore_errors=True)
        message = f"npm ci failed for {name}: {error}"
        if in_ci:
            pytest.fail(message)
        pytest.skip(message)
    try:
        staging.rename(target)
    except OSError:  # another run installed it first
        shutil.rmtree(staging, ignore_errors=True)
    return target
