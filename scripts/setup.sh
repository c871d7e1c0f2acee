#!/usr/bin/env bash
# Installs the Debian packages jit needs to build and test. Safe to run again: it installs
# only what is missing, and refreshes the package lists only when it has to install.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang clang-format clang-tidy libclang-rt-14-dev
  libboost-dev libboost-system-dev
  libssl-dev libcurl4-openssl-dev
  nlohmann-json3-dev libsqlite3-dev sqlite3
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  curl python3 procps tzdata openssl
  libpq-dev postgresql
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # PostgreSQL is for tests only: each test starts a throwaway server of its own (initdb and
  # pg_ctl into a temporary folder). Debian's package would create and start a system cluster
  # on port 5432; tell it not to create one, and keep services from starting during the install.
  policy_rc=""
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    $sudo_cmd mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" |
      $sudo_cmd tee /etc/postgresql-common/createcluster.d/50-jit-no-main-cluster.conf >/dev/null
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee /usr/sbin/policy-rc.d >/dev/null
      $sudo_cmd chmod 755 /usr/sbin/policy-rc.d
      policy_rc=/usr/sbin/policy-rc.d
    fi
  fi
  $sudo_cmd apt-get update -qq
  status=0
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  [ -z "$policy_rc" ] || $sudo_cmd rm -f "$policy_rc"
  [ "$status" -eq 0 ] || { echo "setup: apt-get install failed" >&2; exit "$status"; }
else
  echo "setup: all packages present"
fi

# Node.js and the official AWS SDK for JavaScript v3, for the SDK conformance suite in
# tests/sdk (it drives `jit emulator` with @aws-sdk/client-sso-admin and client-identitystore).
# npm runs only when tests/sdk/package.json changed since the last successful install, so a
# re-run is fast and needs no network.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs npm"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends nodejs npm
fi

sdk_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/sdk"
sdk_marker="$sdk_dir/node_modules/.installed"
if [ ! -d "$sdk_dir/node_modules" ] || [ ! -f "$sdk_marker" ] \
   || [ "$sdk_dir/package.json" -nt "$sdk_marker" ]; then
  echo "setup: installing the AWS SDK for JavaScript into tests/sdk/node_modules"
  # Output is filtered so that no registry address ends up in a log.
  if ! (cd "$sdk_dir" && npm install --no-audit --no-fund --loglevel=error 2>&1) \
       | sed -E 's#[a-zA-Z][a-zA-Z0-9+.-]*://[^[:space:]]*#<url>#g'; then
    echo "setup: npm install in tests/sdk failed" >&2
    exit 1
  fi
  touch "$sdk_marker"
else
  echo "setup: tests/sdk/node_modules up to date"
fi
