#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source kiosk/setup-deps.sh --tests
swift build --build-tests

# A private cupsd (own config, socket, port and spool under a temp folder; nothing under /etc) with raw
# capture queues, stopped again however the tests end.
cupsdir="$(mktemp -d /tmp/jiayuan-cups.XXXXXX)"
# A private PostgreSQL server (initdb/pg_ctl in a temp folder, its own port) for the hub's tests.
pgdir="$(mktemp -d /tmp/jiayuan-pg.XXXXXX)"
cleanup() {
  bash kiosk/dev/cupsd.sh stop "$cupsdir" >/dev/null 2>&1 || true
  bash kiosk/dev/postgres.sh stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$cupsdir" "$pgdir"
}
trap cleanup EXIT
bash kiosk/dev/cupsd.sh start "$cupsdir" >/dev/null
source "$cupsdir/env"
bash kiosk/dev/postgres.sh start "$pgdir"
source "$pgdir/env"

# The browser tests (Tests/browser/*_e2e.py) run selenium and axe-selenium-python from a venv kept under
# .build (gitignored) and reused while it still has all three packages. axe-selenium-python 2.1.6 (the last
# for Python 3.11) bundles axe-core 3.1.1 from 2018; the tests inject the current axe-core that the wheel of
# axe-playwright-python carries (installed with --no-deps: only its axe.min.js is used, not playwright).
venv=.build/test-venv
if ! "$venv/bin/python" -c 'import selenium, axe_selenium_python, importlib.util, sys
sys.exit(importlib.util.find_spec("axe_playwright_python") is None)' >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check selenium axe-selenium-python
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps axe-playwright-python
fi
export JIAYUAN_TEST_PYTHON="$PWD/$venv/bin/python"
export JIAYUAN_BIN="$(swift build --show-bin-path)/jiayuan"
# The appliance binary (Swift runtime linked in), which the installer test runs inside a debootstrap root.
# (Assigned before it is exported: `export X="$(…)"` would hide a failed build from set -e.)
appliance="$(bash kiosk/build-release.sh)"
export JIAYUAN_TEST_APPLIANCE_BINARY="$appliance"
# One run. Suites that block threads (processes, sleeps, blocking sockets, libpq/libcups, SQLite files, PIN
# hashing) are marked `.blocking` and run on threads of their own, so they never starve Swift's cooperative
# pool (one thread per core) that the async suites' timers need (Tests/JiayuanTestSupport/Blocking.swift,
# docs/testing.md). At most two test cases per core run at once (Swift Testing's later default; 6.3 starts
# all ~400 at once): the pool's queue stays short and a 2-core machine is not asked to run dozens of
# servers, browsers and installers side by side.
swift test --skip-build --experimental-maximum-parallelization-width "$((2 * $(nproc)))"
# A brief fuzz of every parser fed from outside (docs/fuzzing.md): a sanitized build in .build-fuzz, then 15 s per
# target; any crash, broken invariant, leak or hang fails the run.
bash kiosk/fuzz.sh 15
