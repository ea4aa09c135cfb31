#!/usr/bin/env bash
# Vendor axe-core (npm package) into tests/vendor/ for the accessibility checks of tests/test_browser.py.
#
#   scripts/vendor-axe.sh [VERSION]      default: the version pinned below
#
# The tests inject axe.min.js into the pages they check; the app never serves it.
set -euo pipefail

VERSION="${1:-4.14.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/tests/vendor"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "Fetching axe-core@$VERSION" >&2
(cd "$TMP" && npm pack --silent "axe-core@$VERSION" >/dev/null && tar xzf axe-core-*.tgz)
PKG="$TMP/package"
test "$(node -p "require('$PKG/package.json').version")" = "$VERSION"

mkdir -p "$DEST"
cp "$PKG/axe.min.js" "$DEST/axe.min.js"
cp "$PKG/LICENSE" "$DEST/axe-core.LICENSE"
echo "axe-core $VERSION (https://www.npmjs.com/package/axe-core), MPL-2.0: see axe-core.LICENSE." > "$DEST/axe-core.VERSION"
ls -l "$DEST" >&2
