#!/usr/bin/env bash
# Vendor pdf.js (npm package pdfjs-dist) into webapp/static/vendor/pdfjs/ for the document viewer.
#
#   scripts/vendor-pdfjs.sh [VERSION]      default: the version pinned below
#
# The site runs on an intranet without internet, so the viewer is served by the
# app itself. Only what viewer.js uses at run time is copied: the library and
# its worker (minified ES modules, no source maps, no viewer app), the packed
# CMaps (non-embedded CJK fonts such as STSong-Light with UniGB-UCS2-H need
# them to map glyphs to text), the standard fonts (non-embedded Helvetica,
# Times...), and the JavaScript JBIG2/CCITT and JPEG 2000 decoders that scanned
# PDFs need (the .wasm builds would need 'wasm-unsafe-eval' in the CSP, so
# viewer.js sets useWasm: false). Licences are copied next to what they cover;
# VERSION records what was vendored.
set -euo pipefail

VERSION="${1:-6.5.438}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/webapp/static/vendor/pdfjs"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "Fetching pdfjs-dist@$VERSION" >&2
(cd "$TMP" && npm pack --silent "pdfjs-dist@$VERSION" >/dev/null && tar xzf pdfjs-dist-*.tgz)
PKG="$TMP/package"
test "$(node -p "require('$PKG/package.json').version")" = "$VERSION"

rm -rf "$DEST"
mkdir -p "$DEST/cmaps" "$DEST/standard_fonts" "$DEST/wasm"
cp "$PKG/build/pdf.min.mjs" "$PKG/build/pdf.worker.min.mjs" "$PKG/LICENSE" "$DEST/"
cp "$PKG"/cmaps/*.bcmap "$PKG/cmaps/LICENSE" "$DEST/cmaps/"
cp "$PKG"/standard_fonts/* "$DEST/standard_fonts/"
cp "$PKG/wasm/jbig2_nowasm_fallback.js" "$PKG/wasm/openjpeg_nowasm_fallback.js" \
   "$PKG/wasm/LICENSE_JBIG2" "$PKG/wasm/LICENSE_PDFJS_JBIG2" \
   "$PKG/wasm/LICENSE_OPENJPEG" "$PKG/wasm/LICENSE_PDFJS_OPENJPEG" "$DEST/wasm/"

cat > "$DEST/VERSION" <<EOF
pdfjs-dist $VERSION (https://www.npmjs.com/package/pdfjs-dist), Apache-2.0: see LICENSE.
Vendored by scripts/vendor-pdfjs.sh: build/pdf.min.mjs, build/pdf.worker.min.mjs,
cmaps/ (Adobe, see cmaps/LICENSE), standard_fonts/ (Foxit and Liberation, see the LICENSE_* files),
wasm/*_nowasm_fallback.js (JBIG2/CCITT and OpenJPEG decoders, see the LICENSE_* files).
EOF
du -sh "$DEST" >&2
