#!/usr/bin/env bash
# `make test`: installs what is missing, builds, and runs every test: unit tests under
# ASan+UBSan, a short fuzzing pass over every fuzz target, and the integration suite that drives
# a real tender with the official stripe-node SDK (and headless Chromium for pages), part of it
# also against the ASan+UBSan server.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)

# Each stage's line also says how idle the machine's CPUs were during the stage before it (from
# /proc/stat): a stage that leaves them idle could run beside another one.
cpu_mark=()
cpu_sample() { read -r _ u n s i w q sq st _ </proc/stat; cpu_mark=($((u + n + s + i + w + q + sq + st)) $((i + w))); }
stage() {
  local prev=("${cpu_mark[@]}")
  cpu_sample
  local note=""
  if [ ${#prev[@]} -eq 2 ] && [ $((cpu_mark[0] - prev[0])) -gt 0 ]; then
    note=" (CPUs idle $((100 * (cpu_mark[1] - prev[1]) / (cpu_mark[0] - prev[0])))% during the stage before)"
  fi
  echo "== $(date -u +%T) $*$note"
}

scripts/deps.sh

stage "layout (clang-format)"
scripts/format-check.sh

stage "build (release and ASan+UBSan)"
make --no-print-directory tender
make --no-print-directory asan

stage "unit tests (ASan+UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  build-asan/unit_tests --jobs "$JOBS"

# The fuzzing pass (its own clang build of the library, then 10 s per target: a smoke pass inside
# CI's 20 minutes; `make fuzz` runs each for a minute) runs beside the integration stages, at the
# lowest CPU priority, in a process group of its own: they leave the CPUs 14-41 % idle
# (2026-12-07), enough for it, and it no longer adds its ~2.3 minutes to the run. It starts after
# the unit tests, not beside them: the unit tests leave only ~30 % idle and its build slowed them
# from ~1:55 to 3:10-3:30. Its output is printed, and its result counted, once the stages are done.
fuzz_log=$(mktemp "${TMPDIR:-/tmp}/tender-fuzz-log.XXXXXX")
FUZZ_SECONDS=${FUZZ_SECONDS:-10} setsid nice -n 19 scripts/fuzz.sh >"$fuzz_log" 2>&1 &
fuzz_pid=$!
stop_fuzz() {
  kill -- "-$fuzz_pid" 2>/dev/null || true
  rm -f "$fuzz_log"
}
trap stop_fuzz EXIT

stage "integration tests (SQLite store); fuzzing (${FUZZ_SECONDS:-10}s per target) started beside the stages"
scripts/integration.sh

stage "integration tests of the newer resources against the ASan+UBSan server"
scripts/integration-asan.sh

stage "integration tests (two PostgreSQL shards, and several nodes over them)"
scripts/integration-pg.sh

stage "fuzz: waiting for the pass started beside the stages"
fuzz_rc=0
wait "$fuzz_pid" || fuzz_rc=$?
cat "$fuzz_log"
if [ "$fuzz_rc" -ne 0 ]; then
  echo "fuzz: failed (exit $fuzz_rc)" >&2
  exit 1
fi

stage "all passed"
