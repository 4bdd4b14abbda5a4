#!/usr/bin/env bash
# Installs uv if needed, then the locked dependencies into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -m uv --version >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check uv
fi
python3 -m uv sync --locked --quiet "$@"
