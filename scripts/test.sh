#!/usr/bin/env bash
# Builds everything and runs the whole test suite: first a debug build (GCC), then the same
# suite built by clang under AddressSanitizer + UndefinedBehaviorSanitizer, then a short run of
# each fuzz harness from that build. Warnings are errors with both compilers.
# JIT_TEST_PRESETS="debug" limits the run to the presets named; JIT_TEST_FUZZ=0 skips the fuzz
# step at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

presets=${JIT_TEST_PRESETS:-"debug asan-ubsan"}
jobs=$(nproc)
# Two tests per core: most of the long ones (crash, fault, browser) spend their time waiting on
# timers and child processes, so the test phase is bounded by its longest test, not the CPU
# (docs/BUILD.md).
export CTEST_PARALLEL_LEVEL=${CTEST_PARALLEL_LEVEL:-$((jobs * 2))}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/jit-ccache}
# Share cache hits between clones in different folders.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}

for preset in $presets; do
  echo "== $preset: build"
  # asan-ubsan was a GCC build before it became a clang one; CMake cannot switch the compiler
  # of a configured folder, so an old one is started afresh.
  cache=build/$preset/CMakeCache.txt
  if [ "$preset" = asan-ubsan ] && [ -f "$cache" ] &&
      ! grep -q '^CMAKE_CXX_COMPILER:.*clang' "$cache"; then
    rm -rf "build/$preset"
  fi
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: test"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset "$preset" --timeout 300
done
# Then a short run of every fuzz harness (fuzz/README.md) that the asan-ubsan preset built with
# clang, ASan and UBSan: JIT_FUZZ_SECONDS (default 11) each, one harness per core at a time.
# JIT_TEST_FUZZ=0 skips it.
fuzzed=""
if [ "${JIT_TEST_FUZZ:-1}" != 0 ] && [[ " $presets " == *" asan-ubsan "* ]]; then
  echo "== fuzz: run"
  JIT_FUZZ_BUILD=build/asan-ubsan JIT_FUZZ_PARALLEL=${JIT_FUZZ_PARALLEL:-$jobs} bash scripts/fuzz.sh "${JIT_FUZZ_SECONDS:-11}"
  fuzzed=", fuzz"
fi
echo "== all presets passed: $presets$fuzzed"
