#!/usr/bin/env bash
# `jiayuan bench print` against python-escpos: installs python-escpos from PyPI into a temporary venv,
# then runs the Swift encoder and the Python one on the same day-care receipt in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-2000}"
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install -q python-escpos
swift build -c release --product jiayuan
"$(swift build -c release --show-bin-path)/jiayuan" bench print --count "$count" --python "$venv/bin/python"
