#!/usr/bin/env bash
# Installs what is needed and runs the whole test suite, with the lint and architecture checks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# GraphiQL and the console are tested in Debian's Chromium, driven by Playwright (never a
# browser it downloads); the alert rules with Debian's promtool (package prometheus).
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
if [ -n "$missing" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's$missing for the browser and alert-rule tests..."
    apt-get update -qq >/dev/null
    # The prometheus package would start its own server; only promtool is wanted.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing \
        >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache
.venv/bin/mypy gateway erp domains adapters kernel retailgraph
# Two workers, a test module each at a time: most tests wait on sockets, subprocesses and
# the databases, so two workers finish the suite in about half the time even on two cores.
# Each test has its own database schema or file and its own Redis keys. TEST_WORKERS=0
# runs in this process (for a debugger).
exec .venv/bin/pytest -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
