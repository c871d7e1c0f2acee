#!/usr/bin/env bash
# Builds jit and starts `jit serve --dev` (SQLite under ./jit-data, loopback only).
# Extra arguments go to `jit serve`, e.g. `bash scripts/dev.sh --listen 127.0.0.1:9090`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target jit
exec build/release/jit serve --dev "$@"
