#!/usr/bin/env bash
# Runs the libFuzzer harnesses (fuzz/README.md) for SECONDS each (default 25), every harness or
# those named, from a scratch copy of their seed corpus. Fails on the first crash, leak, timeout
# or sanitizer report; the reproducer stays in <build>/artifacts/<harness>/.
# The harnesses come from JIT_FUZZ_BUILD (default build/fuzz: `cmake --preset fuzz && cmake
# --build --preset fuzz`, optimised for long runs); scripts/test.sh runs the ones its
# asan-ubsan preset built (JIT_FUZZ_BUILD=build/asan-ubsan).
# JIT_FUZZ_JOBS=N runs N fuzzing processes per harness (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-25}
shift || true
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  harnesses=(api_request_fuzzer config_fuzzer jwt_fuzzer emulator_request_fuzzer jwks_fuzzer
             session_fuzzer slack_fuzzer aws_answer_fuzzer aws_profile_fuzzer)
fi
jobs=${JIT_FUZZ_JOBS:-1}
build=${JIT_FUZZ_BUILD:-build/fuzz}
bin=$build/fuzz
scratch=$(mktemp -d "${TMPDIR:-/tmp}/jit-fuzz-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
for h in "${harnesses[@]}"; do
  if [ ! -x "$bin/$h" ]; then
    echo "fuzz: $bin/$h is missing: run cmake --preset fuzz && cmake --build --preset fuzz" \
         "(or set JIT_FUZZ_BUILD to a build made with -DJIT_FUZZ=ON)" >&2
    exit 1
  fi
  corpus_name=${h%_fuzzer}
  work="$scratch/$h"
  artifacts="$build/artifacts/$h"
  mkdir -p "$work" "$artifacts"
  cp fuzz/corpus/"$corpus_name"/* "$work"/
  start=$(date +%s)
  log="$scratch/$h.log"
  parallel=()
  [ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
  if ! "$bin/$h" "$work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 \
      -max_len=8192 -print_final_stats=1 -artifact_prefix="$artifacts/" "${parallel[@]}" \
      >"$log" 2>&1; then
    echo "fuzz: $h FAILED after $(( $(date +%s) - start ))s; the end of its log:" >&2
    tail -60 "$log" >&2
    [ "$jobs" -gt 1 ] && tail -60 fuzz-*.log >&2 2>/dev/null || true
    status=1
    break
  fi
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' |
         awk '{s += $1} END {print s + 0}')
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 || true)
  echo "fuzz: $h ok: ${runs} runs in $(( $(date +%s) - start ))s, ${cov:-cov: ?}," \
       "corpus $(ls "$work" | wc -l) inputs"
done
rm -f fuzz-*.log
exit $status
