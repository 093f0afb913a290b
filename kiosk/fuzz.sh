#!/usr/bin/env bash
# Builds the libFuzzer targets (Tests/Fuzz/Sources, with -sanitize=fuzzer,address) and runs each for SECONDS
# (default 60). Exits non-zero if any target crashes, breaks an invariant, leaks, runs out of memory or times out.
# Usage: kiosk/fuzz.sh [SECONDS] [TARGET...]       (targets: scan line evdev toml config csv wire gzip form)
# Inputs that find new coverage are kept under .build-fuzz/corpus/TARGET (reused by the next run; the seeds in
# Tests/Fuzz/TARGET are read too); a crashing input is written to .build-fuzz/artifacts/TARGET/ and its name printed.
# docs/fuzzing.md explains the targets and how to replay a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v swift >/dev/null 2>&1; then
  for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do [ -x "$d/swift" ] && export PATH="$d:$PATH"; done
fi
seconds="${1:-60}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scan line evdev toml config csv wire gzip form)
scratch=.build-fuzz

# One sanitized release build of the package's fuzz tool; JIAYUAN_FUZZ swaps its replay main for libFuzzer's driver.
# Linked with lld: SwiftPM points `main` at the module's @main, and gold trips over libFuzzer's own main.
flags=(--scratch-path "$scratch" -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
  -Xswiftc -DJIAYUAN_FUZZ -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld)
start=$SECONDS
mkdir -p "$scratch"
if ! swift build "${flags[@]}" --product jiayuan-fuzz >"$scratch/build.log" 2>&1; then
  grep -E "error" -A3 "$scratch/build.log" >&2 || tail -20 "$scratch/build.log" >&2
  echo "fuzz.sh: the fuzz build failed" >&2
  exit 1
fi
bin="$(swift build "${flags[@]}" --show-bin-path)/jiayuan-fuzz"
if [[ " ${targets[*]} " == *" form "* ]]; then
  mkdir -p "$scratch/form"
  if ! bash Tests/Fuzz/Form/build.sh "$scratch/form" >"$scratch/form/build.log" 2>&1; then
    grep -v "Cannot export local symbol" "$scratch/form/build.log" >&2
    echo "fuzz.sh: the form fuzz build failed" >&2
    exit 1
  fi
  grep "console forms" "$scratch/form/build.log" || true
fi
echo "fuzz.sh: built in $((SECONDS - start)) s"

failed=()
for t in "${targets[@]}"; do
  exe="$bin"
  [ "$t" = form ] && exe="$scratch/form/jiayuan-fuzz-form"
  corpus="$scratch/corpus/$t"
  artifacts="$scratch/artifacts/$t"
  log="$scratch/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: more than 2 GB is a memory blow-up; leaks are
  # checked by LeakSanitizer after inputs that allocated more than they freed.
  if JIAYUAN_FUZZ_TARGET="$t" SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" "$exe" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 -max_len=8192 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "Tests/Fuzz/$t" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$t")
  fi
  runs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo ?)
  speed=$(grep -ao 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo ?)
  cov=$(grep -aoE '(#[0-9]+|DONE).*cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || echo "cov: ?")
  echo "fuzz.sh: $t: $status after ${seconds} s, $runs runs, $speed/s, $cov"
  if [ "$status" = FAILED ]; then
    grep -aE "ERROR: |invariant broken|Fatal error|SUMMARY|Test unit written" "$log" | head -8 | sed 's/^/    /'
    echo "    full log: $log"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets ran ${seconds} s each without a finding"
