#!/usr/bin/env bash
# Refreshes the console's charting library in gateway/console/assets/vendor from the npm
# registry, at the version pinned here, so the page needs no other host at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
target=gateway/console/assets/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent uplot@1.6.32 >/dev/null && tar xzf uplot-1.6.32.tgz)
mkdir -p "$target"
cp "$work"/package/dist/uPlot.iife.min.js "$work"/package/dist/uPlot.min.css "$target"/
{
    echo "The console's vendored assets, as the npm packages named below publish them (scripts/vendor-console.sh)."
    echo
    echo "== uplot-1.6.32 =="
    cat "$work"/package/LICENSE
} > "$target"/LICENSES.txt
