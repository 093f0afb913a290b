#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source kiosk/setup-deps.sh --tests
swift build --build-tests
export JIAYUAN_BIN="$(swift build --show-bin-path)/jiayuan"
swift test --skip-build
