#!/usr/bin/env bash
# Installs what building and testing Tender needs, and only what is missing. Safe to run again.
# Debian 12 packages for the C build; npm modules for the test clients go into tests/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
      libmicrohttpd-dev libsqlite3-dev sqlite3 libssl-dev libjansson-dev libcurl4-openssl-dev
      libpq-dev libxgboost-dev libcriterion-dev libmimalloc-dev libzstd-dev libicu-dev
      libcairo2-dev fonts-dejavu-core poppler-utils
      nodejs npm postgresql openssl wrk curl ca-certificates python3-stripe)
if [ "${TENDER_WITH_BROWSER:-1}" = 1 ]; then pkgs+=(chromium); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node may come from elsewhere than Debian (a newer one on PATH): keep it if it is there.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
filtered=()
for p in "${missing[@]}"; do [ -n "$p" ] && filtered+=("$p"); done
if [ ${#filtered[@]} -gt 0 ]; then
  echo "deps: installing ${filtered[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${filtered[@]}" >/dev/null
fi

# Test clients: the official stripe-node SDK and playwright-core (which never downloads a browser).
if [ ! -d tests/node_modules/stripe ] || [ ! -d tests/node_modules/playwright-core ] \
   || [ tests/package.json -nt tests/node_modules/.installed ]; then
  echo "deps: npm install (tests/)"
  (cd tests && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error >/dev/null)
  touch tests/node_modules/.installed
fi

# promtool (Prometheus' checker) for the metrics test: it validates the /metrics exposition and
# runs the alert rules' unit tests. Only the binary is taken out of Debian's prometheus package
# (installing the package would also set up and try to start a Prometheus server).
if [ ! -x tests/.tools/promtool ]; then
  echo "deps: promtool (from Debian's prometheus package)"
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1); then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1)
  fi
  dpkg -x "$tmp"/prometheus_*.deb "$tmp/x"
  mkdir -p tests/.tools
  cp "$tmp/x/usr/bin/promtool" tests/.tools/promtool
  rm -rf "$tmp"
fi
