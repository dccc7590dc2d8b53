#!/usr/bin/env bash
# Fetch the Vega, Vega-Lite and vega-embed browser builds from the npm registry into
# src/stepwell/cards/static/vega/, with their licenses (BSD-3-Clause). Cards inline them
# (stored once, as a shared asset) so a VegaChart draws with no network access.
# Versions are pinned so the shipped files and what the tests check stay the same.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=src/stepwell/cards/static/vega
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent vega@6.4.0 vega-lite@6.4.3 vega-embed@7.3.0 >/dev/null)
mkdir -p "$dest"
for pkg in vega-6.4.0 vega-lite-6.4.3 vega-embed-7.3.0; do
  mkdir -p "$work/$pkg" && tar xzf "$work/$pkg.tgz" -C "$work/$pkg"
  name=${pkg%-*}
  cp "$work/$pkg/package/build/$name.min.js" "$dest/$name.min.js"
  cp "$work/$pkg/package/LICENSE" "$dest/LICENSE-$name"
done
echo "vendored into $dest:"; ls -l "$dest"
