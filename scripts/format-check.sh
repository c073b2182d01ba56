#!/usr/bin/env bash
# Fails when a tracked C file's layout is not what clang-format (the repo's .clang-format) makes
# of it, and names those files; `make format` rewrites them.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(git ls-files -z 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' |
  xargs -0 -P "$(nproc)" -n 16 clang-format --dry-run -Werror 2>&1 |
  grep -oE '^[^: ]+\.[ch]:[0-9]+:[0-9]+: error' | cut -d: -f1 | sort -u || true)
if [ -n "$bad" ]; then
  echo "format-check: not clang-formatted (make format):" >&2
  echo "$bad" >&2
  exit 1
fi
