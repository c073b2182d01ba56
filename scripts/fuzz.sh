#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/fuzz_*.c, clang, ASan+UBSan) and runs each for
# ${FUZZ_SECONDS:-60} seconds over a scratch copy of its seed corpus (the repository's corpus is
# never written). Exits non-zero on the first crash, leak or timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=${FUZZ_SECONDS:-60}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DTENDER_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
work=$(mktemp -d /tmp/tender-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
for src in tests/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  target=${name#fuzz_}
  mkdir -p "$work/$target"
  [ -d "tests/fuzz/corpus/$target" ] && cp -r "tests/fuzz/corpus/$target/." "$work/$target/"
  dict=()
  [ -f "tests/fuzz/$target.dict" ] && dict=(-dict="tests/fuzz/$target.dict")
  echo "fuzz: $name for ${SECONDS_PER}s"
  if ! (cd "$work" && "$OLDPWD/build-fuzz/$name" "$work/$target" "${dict[@]}" \
        -max_total_time="$SECONDS_PER" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 > "$work/$name.log" 2>&1); then
    echo "fuzz: $name FAILED"; tail -40 "$work/$name.log"; status=1
  else
    grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$work/$name.log" | tail -1 || true
  fi
done
exit $status
