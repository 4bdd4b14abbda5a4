#!/usr/bin/env bash
# Refreshes the GraphiQL page's assets in gateway/http/graphiql_assets from the npm registry,
# at the versions pinned here, so the page needs no other host at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
target=gateway/http/graphiql_assets
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent graphiql@3.9.0 react@18.3.1 react-dom@18.3.1 \
    @graphiql/plugin-explorer@3.2.6 >/dev/null)
for tarball in "$work"/*.tgz; do
    mkdir -p "${tarball%.tgz}"
    tar xzf "$tarball" -C "${tarball%.tgz}"
done
cp "$work"/graphiql-3.9.0/package/graphiql.min.js "$work"/graphiql-3.9.0/package/graphiql.min.css "$target"/
cp "$work"/react-18.3.1/package/umd/react.production.min.js "$target"/
cp "$work"/react-dom-18.3.1/package/umd/react-dom.production.min.js "$target"/
cp "$work"/graphiql-plugin-explorer-3.2.6/package/dist/index.umd.js "$target"/plugin-explorer.umd.js
cp "$work"/graphiql-plugin-explorer-3.2.6/package/dist/style.css "$target"/plugin-explorer.css
{
    echo "GraphiQL's assets, as the npm packages named below publish them (scripts/vendor-graphiql.sh)."
    echo
    for package in graphiql-3.9.0 react-18.3.1 react-dom-18.3.1 graphiql-plugin-explorer-3.2.6; do
        echo "== ${package} =="
        cat "$work/$package/package/LICENSE" 2>/dev/null || echo "(MIT; see the package)"
        echo
    done
} > "$target"/LICENSES.txt
