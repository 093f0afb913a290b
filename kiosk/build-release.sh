#!/usr/bin/env bash
# Builds the appliance binary and prints its path (docs/memory.md): a release build with the Swift runtime
# linked in (the installed program needs nothing from the toolchain), laid out for a small idle memory:
#   - every function in a section of its own (Swift's async parts and C code included);
#   - linked by lld without exported symbols (so unused code is dropped and no symbol tables are read),
#     position-independent with packed relative relocations (ASLR stays, start-up relocation stays small);
#   - the functions `jiayuan serve` runs laid out together (kiosk/jiayuan.order, made by
#     kiosk/dev/order-file.sh) and the unnamed compiler-made ones gathered (kiosk/jiayuan-text.ld).
# Build output goes to stderr; -q drops it.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release --static-swift-stdlib --scratch-path .build-static
  -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections
  -Xswiftc -use-ld=lld
  -Xlinker --no-export-dynamic
  -Xlinker -z -Xlinker pack-relative-relocs
  -Xlinker "--symbol-ordering-file=$PWD/kiosk/jiayuan.order" -Xlinker --no-warn-symbol-ordering
  -Xlinker "--script=$PWD/kiosk/jiayuan-text.ld")
if [ "${1:-}" = "-q" ]; then
  swift build "${flags[@]}" --product jiayuan >/dev/null
else
  swift build "${flags[@]}" --product jiayuan >&2
fi
echo "$(swift build "${flags[@]}" --show-bin-path)/jiayuan"
