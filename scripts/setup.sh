#!/usr/bin/env bash
# Installs the Debian packages jit needs to build and test. Safe to run again: it installs
# only what is missing, and refreshes the package lists only when it has to install.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang clang-format clang-tidy libclang-rt-14-dev lld
  libboost-dev libboost-system-dev
  libssl-dev libcurl4-openssl-dev
  nlohmann-json3-dev libsqlite3-dev sqlite3
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  curl python3 procps tzdata
  libpq-dev postgresql
  python3-aiosmtpd openssl
  chromium fonts-dejavu-core
  dpkg-dev file systemd
  python3-yaml
  prometheus
)
# `scripts/setup.sh --bench`: also what the benchmark suite (scripts/bench.sh) compares jit with
# and loads it by: nginx serving the same JSON from a file, and the wrk load generator. Not
# needed to build or test.
if [ "${1:-}" = "--bench" ]; then
  packages+=(nginx wrk)
fi

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
  # Prometheus is for `promtool test rules` only (deploy/prometheus): its server must not start
  # now, nor at boot.
  policy_rc=""
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    $sudo_cmd mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" |
      $sudo_cmd tee /etc/postgresql-common/createcluster.d/50-jit-no-main-cluster.conf >/dev/null
  fi
  # nginx (--bench) likewise: the suite starts its own on a loopback port.
  if [[ " ${missing[*]} " == *" postgresql "* || " ${missing[*]} " == *" prometheus "* ||
        " ${missing[*]} " == *" nginx "* ]]; then
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
  if [ "$status" -eq 0 ] && [[ " ${missing[*]} " == *" prometheus "* ]]; then
    $sudo_cmd systemctl disable prometheus >/dev/null 2>&1 || true
  fi
  if [ "$status" -eq 0 ] && [[ " ${missing[*]} " == *" nginx "* ]]; then
    $sudo_cmd systemctl disable nginx >/dev/null 2>&1 || true
  fi
  [ "$status" -eq 0 ] || { echo "setup: apt-get install failed" >&2; exit "$status"; }
else
  echo "setup: all packages present"
fi

# Node.js, for the SDK conformance suite in tests/sdk (it drives `jit emulator` with
# @aws-sdk/client-sso-admin and client-identitystore) and the browser tests in tests/ui.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs npm"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends nodejs npm
fi

# npm packages of the JavaScript test suites: the AWS SDK for JavaScript v3 (tests/sdk) and
# playwright-core with oidc-provider for the browser tests (tests/ui, driving Debian's
# Chromium; no browser is downloaded). npm runs only when a package.json changed since its
# last successful install, so a re-run is fast and needs no network.
npm_install() {
  local dir="$1" what="$2"
  local marker="$dir/node_modules/.installed"
  if [ ! -d "$dir/node_modules" ] || [ ! -f "$marker" ] || [ "$dir/package.json" -nt "$marker" ]; then
    echo "setup: installing $what into ${dir#"$root"/}/node_modules"
    # Output is filtered so that no registry address ends up in a log.
    if ! (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
          npm install --no-audit --no-fund --loglevel=error 2>&1) \
         | sed -E 's#[a-zA-Z][a-zA-Z0-9+.-]*://[^[:space:]]*#<url>#g'; then
      echo "setup: npm install in ${dir#"$root"/} failed" >&2
      exit 1
    fi
    touch "$marker"
  else
    echo "setup: ${dir#"$root"/}/node_modules up to date"
  fi
}

root="$(cd "$(dirname "$0")/.." && pwd)"
npm_install "$root/tests/sdk" "the AWS SDK for JavaScript"
npm_install "$root/tests/ui" "playwright-core and oidc-provider"
# cfn-lint and AWS's CloudFormation resource specification (@aws-cdk/cfnspec) for the checks of
# deploy/cloudformation/jit.yaml in tests/deploy_test.py.
npm_install "$root/tests/deploy" "cfn-lint and the CloudFormation resource specification"
