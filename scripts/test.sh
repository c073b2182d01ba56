#!/usr/bin/env bash
# `make test`: installs what is missing, builds, and runs every test: unit tests under
# ASan+UBSan, a short fuzzing pass over every fuzz target, and the integration suite that drives
# a real tender with the official stripe-node SDK (and headless Chromium for pages), part of it
# also against the ASan+UBSan server.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)

scripts/deps.sh

echo "== $(date -u +%T) layout (clang-format)"
scripts/format-check.sh

echo "== $(date -u +%T) build (release and ASan+UBSan)"
make --no-print-directory tender
make --no-print-directory asan

echo "== $(date -u +%T) unit tests (ASan+UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  build-asan/unit_tests --jobs "$JOBS"

# 10 s per target: a smoke pass inside CI's 20 minutes (2026-12-06: 19.3 minutes with 20 s);
# `make fuzz` runs each for a minute
echo "== $(date -u +%T) fuzz (${FUZZ_SECONDS:=10}s per target)"
FUZZ_SECONDS=$FUZZ_SECONDS scripts/fuzz.sh

echo "== $(date -u +%T) integration tests (SQLite store)"
scripts/integration.sh

echo "== $(date -u +%T) integration tests of the newer resources against the ASan+UBSan server"
scripts/integration-asan.sh

echo "== $(date -u +%T) integration tests (two PostgreSQL shards, and several nodes over them)"
scripts/integration-pg.sh

echo "== $(date -u +%T) all passed"
