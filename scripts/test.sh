#!/usr/bin/env bash
# Installs what is needed and runs the whole test suite, with the lint and architecture checks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache
.venv/bin/mypy gateway domains adapters retailgraph
exec .venv/bin/pytest "$@"
