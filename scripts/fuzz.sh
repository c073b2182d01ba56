#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/fuzz_*.c with clang (ASan + UBSan) and runs each one for
# FUZZ_SECONDS seconds over a scratch copy of its seed corpus tests/fuzz/corpus/<name>/ (with the
# dictionary tests/fuzz/<name>.dict when there is one). Inputs libFuzzer discovers go to the
# scratch copy, never into the repository. Exits non-zero when a target fails to build or finds a
# crash, leak, timeout or failed check; the reproducer is kept in <build>/artifacts/<target>/ and
# the full output in <build>/logs/<target>.log.
#
#   scripts/fuzz.sh                 every target
#   scripts/fuzz.sh fuzz_form       only these targets
#
# Environment: FUZZ_SECONDS (default 60; 0 = build only), FUZZ_JOBS (build parallelism, default 2),
# FUZZ_BUILD_DIR (default build-fuzz), FUZZ_MAX_LEN (largest input tried, default 8192 bytes).
#
# Targets are built through CMake (-DTENDER_FUZZ=ON, the whole library instrumented for coverage
# with -fsanitize=fuzzer-no-link). When the library does not build (someone's file mid-edit), a
# target is compiled directly with clang from the sources listed on its "fuzz-sources:" line,
# plus the libraries on an optional "fuzz-libs:" line.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
build=${FUZZ_BUILD_DIR:-build-fuzz}
max_len=${FUZZ_MAX_LEN:-8192}
if ! [[ "$secs" =~ ^[0-9]+$ && "$jobs" =~ ^[1-9][0-9]*$ && "$max_len" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz: FUZZ_SECONDS, FUZZ_JOBS and FUZZ_MAX_LEN must be numbers" >&2
  exit 2
fi

targets=()
if [ $# -gt 0 ]; then
  for t in "$@"; do
    t=$(basename "$t" .c)
    [ -f "tests/fuzz/$t.c" ] || { echo "fuzz: no such target tests/fuzz/$t.c" >&2; exit 2; }
    targets+=("$t")
  done
else
  for f in tests/fuzz/fuzz_*.c; do
    [ -e "$f" ] && targets+=("$(basename "$f" .c)")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets in tests/fuzz/"
  exit 0
fi

command -v clang >/dev/null || { echo "fuzz: clang is missing (scripts/deps.sh)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/tender-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$build/logs" "$build/direct"

# libFuzzer's runtime is a separate Debian package (libclang-rt-14-dev).
cat >"$work/probe.c" <<'EOF'
int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);
int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }
EOF
if ! clang -fsanitize=fuzzer "$work/probe.c" -o "$work/probe" >/dev/null 2>&1; then
  echo "fuzz: clang cannot link libFuzzer: apt-get install libclang-rt-14-dev" >&2
  exit 2
fi

warn=(-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2
      -Wno-unused-parameter)

echo "== fuzz: configuring $build (clang, TENDER_FUZZ=ON)"
cmake_lib=0
if cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DTENDER_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
     -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" \
     >"$build/logs/cmake.log" 2>&1 \
   && cmake --build "$build" -j "$jobs" --target tender_lib >>"$build/logs/cmake.log" 2>&1; then
  cmake_lib=1
else
  echo "   the library does not build with CMake ($build/logs/cmake.log); building targets directly"
fi

# Direct build from the target's own "fuzz-sources:" / "fuzz-libs:" lines.
build_direct() {
  local t=$1 src="tests/fuzz/$1.c" srcs libs
  srcs=$(sed -n 's/.*fuzz-sources:\(.*\)$/\1/p' "$src" | head -n 1)
  libs=$(sed -n 's/.*fuzz-libs:\(.*\)$/\1/p' "$src" | head -n 1)
  if [ -z "$srcs" ]; then
    echo "   $t: no fuzz-sources line, it can only be built through CMake" >&2
    return 1
  fi
  # shellcheck disable=SC2086 # word splitting of the source and library lists is intended
  clang -std=c17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -fno-omit-frame-pointer -fno-strict-aliasing -D_GNU_SOURCE "${warn[@]}" -Isrc \
    "$src" $srcs -o "$build/direct/$t" $libs -lm -lpthread
}

status=0
summary=()
for t in "${targets[@]}"; do
  bin=""
  if [ $cmake_lib = 1 ] && cmake --build "$build" -j "$jobs" --target "$t" \
       >"$build/logs/$t.build.log" 2>&1; then
    bin="$build/$t"
    how=cmake
  elif build_direct "$t" >"$build/logs/$t.build.log" 2>&1; then
    bin="$build/direct/$t"
    how=direct
  else
    echo "!! $t: build failed"
    tail -n 30 "$build/logs/$t.build.log"
    summary+=("$t: BUILD FAILED")
    status=1
    continue
  fi
  if [ "$secs" = 0 ]; then
    summary+=("$t: built ($how) $bin")
    continue
  fi

  name=${t#fuzz_}
  corpus="$work/corpus-$name"
  mkdir -p "$corpus"
  if [ -d "tests/fuzz/corpus/$name" ]; then
    cp -R "tests/fuzz/corpus/$name/." "$corpus/"
  fi
  dict=()
  if [ -f "tests/fuzz/$name.dict" ]; then
    dict=(-dict="tests/fuzz/$name.dict")
  fi
  art="$build/artifacts/$t/"
  mkdir -p "$art"
  log="$build/logs/$t.log"
  echo "== fuzz: $t ($how build) for ${secs}s, seeds: $(find "$corpus" -type f | wc -l)"
  rc=0
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$bin" -max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$art" "${dict[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  if [ $rc -ne 0 ]; then
    echo "!! $t: FAILED (exit $rc); reproducer in $art, log $log"
    grep -E 'ERROR|CHECK failed|runtime error|SUMMARY|Test unit written' "$log" | head -n 20 || true
    summary+=("$t: FAILED (exit $rc) after ${execs:-?} execs")
    status=1
  else
    summary+=("$t: ok, ${execs:-?} execs in ${secs}s, coverage ${cov:-?} edges")
  fi
done

echo "== fuzz summary"
for s in "${summary[@]}"; do echo "   $s"; done
exit $status
