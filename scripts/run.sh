#!/usr/bin/env bash
# `make run`: installs what is missing, builds, creates a master key and a test merchant (once),
# and serves on 127.0.0.1:4242 with the embedded SQLite store.
set -euo pipefail
cd "$(dirname "$0")/.."
TENDER_WITH_BROWSER=0 scripts/deps.sh
make --no-print-directory tender

home="${TENDER_HOME:-$PWD/.tender}"
mkdir -p "$home"
chmod 700 "$home"
[ -f "$home/master.key" ] || build/tender keygen "$home/master.key"
if [ ! -f "$home/merchant.json" ]; then
  (umask 077 && build/tender merchant create --data "$home/data" --name "Local test merchant" > "$home/merchant.json")
fi
sk=$(sed -n 's/.*"secret_key":"\([^"]*\)".*/\1/p' "$home/merchant.json")
pk=$(sed -n 's/.*"publishable_key":"\([^"]*\)".*/\1/p' "$home/merchant.json")
cat <<MSG

Tender is starting on http://127.0.0.1:4242 (data in $home/data).
  secret key:      $sk
  publishable key: $pk

Try:
  curl http://127.0.0.1:4242/v1/customers -u $sk: -d email=jenny@example.com
  curl http://127.0.0.1:4242/v1/customers -u $sk:

stripe-node: new Stripe('$sk', {host: '127.0.0.1', port: 4242, protocol: 'http'})
Stop with Ctrl-C.

MSG
exec build/tender serve --listen "${TENDER_LISTEN:-127.0.0.1:4242}" --data "$home/data" \
  --master-key-file "$home/master.key"
