#!/usr/bin/env bash
# Renders `shrink path --report` and `shrink compare --report` in headless Chromium (Debian's
# `chromium`, installed when missing) and checks that each page is a non-blank PNG whose
# rendered DOM holds its SVG charts. Leaves the pages and PNGs in out/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$PWD/.pocl-cache}"
swift build --product shrink >/dev/null
mkdir -p out
.build/debug/shrink path --synthetic regression:300:8 --n-alphas 40 --cv 5 --out out/path.json --report out/path.html >/dev/null
.build/debug/shrink compare --epochs 20 --plot out/compare.svg --report out/compare.html >/dev/null
for page in path compare; do
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=900,2400 \
        --screenshot="out/$page.png" "file://$PWD/out/$page.html" >/dev/null 2>&1
    charts=$(chromium --headless --no-sandbox --disable-gpu --dump-dom "file://$PWD/out/$page.html" 2>/dev/null | grep -c "<svg " || true)
    size=$(stat -c %s "out/$page.png")
    # A blank 900×2400 page compresses to a few KB; charts with lines and text take tens of KB.
    python3 - "out/$page.png" "$charts" "$page" <<'PY'
import struct, sys, zlib
path, charts, page = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
width, height = struct.unpack(">II", data[16:24])
idat = b"".join(data[i + 8:i + 8 + struct.unpack(">I", data[i:i + 4])[0]]
                for i in range(8, len(data)) if data[i + 4:i + 8] == b"IDAT")
raw = zlib.decompress(idat)
distinct = len(set(raw[j:j + 3] for j in range(1, min(len(raw), 4_000_000), 7)))
need = {"path": 2, "compare": 4}[page]
assert charts >= need, f"{page}: {charts} SVG charts in the rendered DOM, expected ≥ {need}"
assert distinct > 50, f"{page}: the screenshot looks blank ({distinct} distinct byte triples)"
print(f"{page}: {width}×{height} PNG, {charts} SVG charts rendered, {distinct} distinct pixel samples: ok")
PY
done
