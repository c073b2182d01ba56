#!/usr/bin/env bash
# Runs the integration suite against PostgreSQL: starts two throwaway clusters (scripts/pg.sh),
# exports TENDER_DATABASE_URLS so tests/integration/helpers.js adds --database-url flags to
# every command that opens the store (each test environment gets fresh databases on both
# shards), runs the suite, and always stops the clusters.
#   scripts/integration-pg.sh [node --test arguments, default: integration/]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/tender ] || make --no-print-directory tender
export TENDER_BIN="${TENDER_BIN:-$PWD/build/tender}"
source scripts/shared.sh
if [ ! -f "$TENDER_SHARED/tools/stripe-openapi-validate.js" ]; then
  echo "integration-pg: Stripe's OpenAPI validator not found under $TENDER_SHARED (set TENDER_SHARED)" >&2
  exit 1
fi
PGDIR=$(mktemp -d /tmp/tender-it-pg-XXXXXX)
ROOT=$PWD
cleanup() { "$ROOT/scripts/pg.sh" stop "$PGDIR" || true; }
trap cleanup EXIT INT TERM
scripts/pg.sh start "$PGDIR" 2 >/dev/null
TENDER_DATABASE_URLS=$(tr '\n' ' ' <"$PGDIR/urls")
export TENDER_DATABASE_URLS
# Every test environment gets fresh databases; copying one already migrated (CREATE DATABASE …
# TEMPLATE) takes a fraction of the second that ~90 migrations on two shards take. The template
# is migrated by a command that opens the store (and records each shard's identity, in this
# order of shards, which every test environment keeps); nothing connects to it afterwards, as
# PostgreSQL requires of a template.
tmpl_urls=()
while read -r u; do
  psql "${u%/*}/postgres" -q -c "CREATE DATABASE it_template TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
  tmpl_urls+=(--database-url "${u%/*}/it_template")
done <"$PGDIR/urls"
mkdir -p "$PGDIR/template-data"
"$TENDER_BIN" merchant list --data "$PGDIR/template-data" "${tmpl_urls[@]}" >/dev/null
export TENDER_PG_TEMPLATE=it_template
export TENDER_PG_DIR="$PGDIR" # tests grep every file of the clusters for secrets in clear
echo "integration-pg: shards $TENDER_DATABASE_URLS"
cd tests
# With no arguments (CI), every file but those that mostly drive pages in Chromium (Checkout's
# parameters, shipping and metered pages, the billing portal, Identity's and Connect
# onboarding's pages, automatic tax on the Checkout page): their writes go through the API code
# the other files run here too (checkout.test.js and the redirect methods keep the Checkout
# page's payment on PostgreSQL), and on a slow 2-core host they were ~2 of CI's 20 minutes.
# They run on SQLite in CI; PG_FULL=1 (or naming the files) runs them here.
if [ $# -eq 0 ]; then
  if [ -n "${PG_FULL:-}" ]; then
    set -- integration/
  else
    for f in integration/*.test.js; do
      case "$f" in
        */checkout_params.test.js | */billing_portal.test.js | */checkout_shipping.test.js | \
          */checkout_metered.test.js | */identity.test.js | */automatic_tax_checkout.test.js | \
          */connect_onboarding.test.js) ;;
        *) set -- "$@" "$f" ;;
      esac
    done
  fi
fi
# three files at a time: PostgreSQL's own processes share the two cores, so the suite waits
# less than the SQLite one does (which runs four)
# TAP on stdout, and each file's wall time (reporters/file-times.mjs) printed after it: the
# slowest files are where CI's time goes.
times=$(mktemp /tmp/tender-file-times-XXXXXX)
rc=0
node --test --test-concurrency="${TEST_CONCURRENCY:-3}" --test-timeout=300000 \
  --test-reporter=tap --test-reporter-destination=stdout \
  --test-reporter=./reporters/file-times.mjs --test-reporter-destination="$times" \
  "$@" || rc=$?
echo "# slowest files (wall seconds, passed, failed):"
head -n 12 "$times" | sed 's/^/#   /'
rm -f "$times"
exit "$rc"

