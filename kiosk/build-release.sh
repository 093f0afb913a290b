#!/usr/bin/env bash
# Builds the appliance binary and prints its path: a release build with the Swift runtime linked in (the
# installed program needs nothing from the toolchain), every function in a section of its own (Swift's
# async parts and C code included), so the link can lay out the serving path together (Package.swift,
# releaseLinkFlags; docs/memory.md). Build output goes to stderr; -q drops it.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release --static-swift-stdlib --scratch-path .build-static
  -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections)
if [ "${1:-}" = "-q" ]; then
  swift build "${flags[@]}" --product jiayuan >/dev/null
else
  swift build "${flags[@]}" --product jiayuan >&2
fi
echo "$PWD/$(swift build "${flags[@]}" --show-bin-path | sed "s|^$PWD/||")/jiayuan"
