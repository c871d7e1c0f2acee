#!/usr/bin/env bash
# The benchmark suite of issue 18 (docs/PERFORMANCE.md "Benchmark suite"): installs nginx and wrk
# (scripts/setup.sh --bench), builds the release preset (only `jit` and the bench programs), and
# runs bench/suite/suite.py, which prints one JSON line per scenario. Arguments go to suite.py:
#   scripts/bench.sh --small              # N = 2,000, about a minute of runs
#   scripts/bench.sh                      # N = 10,000
#   scripts/bench.sh --n 100000 --only scale,recovery
#   scripts/bench.sh --out results.jsonl  # also append the lines to a file
# JIT_BENCH_SETUP=0 skips the install step. Exit 1 when a scenario failed (its line says why).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${JIT_BENCH_SETUP:-1}" = 0 ] || bash scripts/setup.sh --bench >&2
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/jit-ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target jit engine_bench lifecycle_bench catalog_bench >&2
exec python3 bench/suite/suite.py --build build/release "$@"
