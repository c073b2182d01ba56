#!/usr/bin/env bash
# Runs the integration suite (node's test runner + stripe-node) against build/tender.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/tender ] || make --no-print-directory tender
export TENDER_BIN="$PWD/build/tender"
source scripts/shared.sh
if [ ! -f "$TENDER_SHARED/tools/stripe-openapi-validate.js" ]; then
  echo "integration: Stripe's OpenAPI validator not found under $TENDER_SHARED (set TENDER_SHARED)" >&2
  exit 1
fi
tmpl=$(mktemp -d /tmp/tender-it-template-XXXXXX)
trap 'rm -rf "$tmpl"' EXIT
sqlite_template "$tmpl"
cd tests
# Each test file starts its own servers on free ports. Four files run at a time on the 2 cores:
# the suite waits (scheduler ticks, fsyncs, browsers) more than it computes: at two at a time it
# used about a third of the CPU (2026-12-06: 178 s of CPU in 248 s of CI wall).
# TAP on stdout, and each file's wall time (reporters/file-times.mjs) printed after it: the
# slowest files are where CI's time goes.
times=$(mktemp /tmp/tender-file-times-XXXXXX)
rc=0
node --test --test-concurrency="${TEST_CONCURRENCY:-4}" --test-timeout=300000 \
  --test-reporter=tap --test-reporter-destination=stdout \
  --test-reporter=./reporters/file-times.mjs --test-reporter-destination="$times" \
  integration/ || rc=$?
echo "# slowest files (wall seconds, passed, failed):"
head -n 12 "$times" | sed 's/^/#   /'
rm -f "$times"
exit "$rc"
