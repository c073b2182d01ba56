#!/usr/bin/env bash
# The SQLite query plan of every SELECT in src/: one line per statement, "file NAME: plan".
#   scripts/plans.sh > plans.txt     (diff two runs to see what a change does to the plans)
# Each `const char NAME[] = "…"` holding a SELECT is taken from the preprocessed source (so the
# statements macros build are whole), and run under EXPLAIN QUERY PLAN on a store that
# `tender merchant create` has just migrated (planner statistics included, store/migrate.c).
# Plans do not depend on the rows: Tender's statistics are fixed. Needs build/ (make) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/tender ] && [ -f build/compile_commands.json ] || { echo "plans.sh: run make first" >&2; exit 1; }
tmp=$(mktemp -d /tmp/tender-plans-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
build/tender keygen "$tmp/key" >/dev/null
TENDER_MASTER_KEY_FILE="$tmp/key" build/tender merchant create --data "$tmp/data" --name plans >/dev/null
python3 - "$tmp/data/tender.db" <<'PY'
import json, re, shlex, sqlite3, subprocess, sys
db = sqlite3.connect(sys.argv[1])
params = {str(i): None for i in range(1, 64)}
for e in sorted(json.load(open('build/compile_commands.json')), key=lambda e: e['file']):
    f = e['file']
    if '/src/' not in f or '/tests/' in f:
        continue
    args, skip = [], False
    for a in shlex.split(e['command']):
        if skip:
            skip = False
        elif a == '-o':
            skip = True
        elif a not in ('-c', f):
            args.append(a)
    pp = subprocess.run(args + ['-E', '-P', f], capture_output=True, text=True, cwd=e['directory']).stdout
    for m in re.finditer(r'const\s+char\s+(\w+)\s*\[\s*\]\s*=\s*((?:"(?:[^"\\]|\\.)*"\s*)+);', pp):
        sql = ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))).encode().decode('unicode_escape')
        if not re.search(r'\bSELECT\b', sql):
            continue
        try:
            plan = ' | '.join(r[3] for r in db.execute('EXPLAIN QUERY PLAN ' + sql, params))
        except sqlite3.Error as x:
            plan = f'(not SQLite: {x})'
        print(f"{f.split('/src/', 1)[1]} {m.group(1)}: {plan}")
PY
