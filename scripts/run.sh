#!/usr/bin/env bash
# Installs what is needed and starts RetailGraph on the embedded default, with demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --no-dev
exec .venv/bin/retailgraph run "$@"
