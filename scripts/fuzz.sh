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
             session_fuzzer slack_fuzzer aws_answer_fuzzer aws_profile_fuzzer
             request_codec_fuzzer findings_fuzzer activity_event_fuzzer)
fi
jobs=${JIT_FUZZ_JOBS:-1}
build=${JIT_FUZZ_BUILD:-build/fuzz}
case $build in /*) ;; *) build=$PWD/$build ;; esac
bin=$build/fuzz
scratch=$(mktemp -d "${TMPDIR:-/tmp}/jit-fuzz-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# JIT_FUZZ_PARALLEL=N runs N harnesses at a time (default 1); scripts/test.sh runs one per core.
parallel_harnesses=${JIT_FUZZ_PARALLEL:-1}

for h in "${harnesses[@]}"; do
  if [ ! -x "$bin/$h" ]; then
    echo "fuzz: $bin/$h is missing: run cmake --preset fuzz && cmake --build --preset fuzz" \
         "(or set JIT_FUZZ_BUILD to a build made with -DJIT_FUZZ=ON)" >&2
    exit 1
  fi
done

# run_one HARNESS: fuzzes one harness in a folder of its own; prints one line, or the end of its
# log on a failure, and exits non-zero then.
run_one() {
  local h="$1"
  local corpus_name=${h%_fuzzer}
  local work="$scratch/$h"
  local artifacts="$build/artifacts/$h"
  mkdir -p "$work" "$artifacts" "$scratch/$h.cwd"
  cp fuzz/corpus/"$corpus_name"/* "$work"/
  local start
  start=$(date +%s)
  local log="$scratch/$h.log"
  local parallel=()
  [ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
  # Each harness runs in a folder of its own, where libFuzzer's -jobs leave their fuzz-N.log.
  if ! (cd "$scratch/$h.cwd" && "$bin/$h" "$work" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2560 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${parallel[@]}") >"$log" 2>&1; then
    {
      echo "fuzz: $h FAILED after $(( $(date +%s) - start ))s; the end of its log:"
      tail -60 "$log"
      [ "$jobs" -gt 1 ] && tail -60 "$scratch/$h.cwd"/fuzz-*.log 2>/dev/null
    } >&2
    return 1
  fi
  local runs cov
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' |
         awk '{s += $1} END {print s + 0}')
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 || true)
  echo "fuzz: $h ok: ${runs} runs in $(( $(date +%s) - start ))s, ${cov:-cov: ?}," \
       "corpus $(ls "$work" | wc -l) inputs"
}

status=0
running=0
for h in "${harnesses[@]}"; do
  run_one "$h" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel_harnesses" ]; then
    wait -n || status=1
    running=$((running - 1))
    [ "$status" -eq 0 ] || break
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
exit $status
