#!/usr/bin/env bash
# Fails when a tracked C file's layout is not what clang-format (the repo's .clang-format) makes
# of it, and lists those files; `make format` rewrites them.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r f; do
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
    echo "format-check: $f is not clang-formatted (make format)" >&2
    bad=1
  fi
done < <(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h')
exit $bad
