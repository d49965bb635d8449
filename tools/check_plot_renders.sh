#!/usr/bin/env bash
# check_plot_renders.sh: renders a plot report in headless Chromium and checks
# that the screenshot shows charts, not a blank or broken page.
#
#   tools/check_plot_renders.sh                      # report from testdata
#   tools/check_plot_renders.sh report.html out.png  # your own report
#
# Needs Debian's chromium (apt-get install -y chromium) and python3, which is
# why this is a script and not part of `tools/bazel test //...`. Without a
# report it builds one with //tools:plot from tools/testdata/strategies.json.
# Leaves the screenshot at out.png (default: a temporary directory, printed)
# so a person can look at it. Exits non-zero when the page did not render.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  echo "check_plot_renders: needs chromium: apt-get install -y chromium" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work/profile"' EXIT
report=${1:-}
png=${2:-$work/plot.png}
if [[ -z $report ]]; then
  report=$work/report.html
  tools/bazel run //tools:plot -- "$PWD/tools/testdata/strategies.json" \
    -o "$report" --title="check_plot_renders: tools/testdata/strategies.json"
fi
[[ -s $report ]] || { echo "check_plot_renders: no report at $report" >&2; exit 1; }
rm -f "$png"

# Every network feature off: the page must stand alone, and nothing here may
# reach outside the machine.
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic \
  --no-first-run --disable-background-networking --disable-component-update \
  --disable-sync --user-data-dir="$work/profile" --hide-scrollbars \
  --screenshot="$png" --window-size=1200,1600 \
  "file://$(realpath "$report")" 2>"$work/chromium.log" || {
  cat "$work/chromium.log" >&2
  echo "check_plot_renders: chromium failed" >&2
  exit 1
}
[[ -s $png ]] || { echo "check_plot_renders: no screenshot" >&2; exit 1; }

# Decode the PNG with the standard library only and look at its pixels: a
# real chart has plenty of non-white pixels and lines in the palette colours
# plot uses (tools/plot_lib.cc).
python3 - "$png" <<'PY'
import struct, sys, zlib

path = sys.argv[1]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, header = 8, b"", None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
width, height, depth, color_type, _, _, interlace = header
assert depth == 8 and color_type in (2, 6) and interlace == 0, header
bpp = 3 if color_type == 2 else 4
raw = zlib.decompress(idat)
stride = width * bpp
rows, prev, i = [], bytearray(stride), 0
for _ in range(height):
    kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if kind == 1:
            line[x] = (line[x] + a) & 255
        elif kind == 2:
            line[x] = (line[x] + b) & 255
        elif kind == 3:
            line[x] = (line[x] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    rows.append(line)
    prev = line
pixels = [tuple(r[x:x + 3]) for r in rows for x in range(0, stride, bpp)]
non_white = sum(1 for p in pixels if p != (255, 255, 255)) / len(pixels)
palette = {"D55E00", "0072B2", "009E73", "CC79A7"}
def near(p, hexcolor):
    q = bytes.fromhex(hexcolor)
    return all(abs(p[k] - q[k]) <= 12 for k in range(3))
seen = {h for h in palette if any(near(p, h) for p in pixels[::7])}
print(f"check_plot_renders: {path}: {width}x{height}, "
      f"{100 * non_white:.1f}% non-white, palette colours seen: {sorted(seen)}")
if non_white < 0.02:
    sys.exit("check_plot_renders: the page looks blank")
if len(seen) < 2:
    sys.exit("check_plot_renders: no chart lines in the strategy colours")
PY
echo "check_plot_renders: OK: $png"
