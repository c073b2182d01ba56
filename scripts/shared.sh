# Sourced by the integration scripts: finds the shared reference directory (Stripe's OpenAPI
# validator) and exports TENDER_SHARED. It sits next to the checkout (../shared); a clone made from
# a local checkout (git clone /work/main /tmp/x) finds it next to the checkout it came from.
find_shared() {
  local c origin
  for c in "${TENDER_SHARED:-}" "$(cd .. && pwd)/shared"; do
    [ -n "$c" ] && [ -f "$c/tools/stripe-openapi-validate.js" ] && { echo "$c"; return; }
  done
  origin=$(git config --get remote.origin.url 2>/dev/null || true)
  if [ -n "$origin" ] && [ -d "$origin" ]; then
    c="$(cd "$origin/.." && pwd)/shared"
    [ -f "$c/tools/stripe-openapi-validate.js" ] && { echo "$c"; return; }
  fi
  echo "${TENDER_SHARED:-$(cd .. && pwd)/shared}"
}
TENDER_SHARED=$(find_shared)
export TENDER_SHARED

# sqlite_template DIR: makes DIR/tender.db, an empty store migrated by $TENDER_BIN, and exports
# TENDER_SQLITE_TEMPLATE for tests/integration/helpers.js to copy into each fresh data directory.
# Migrating a store costs ~0.2 s of CPU (0.7 s under ASan), nearly all of it SQLite parsing its
# schema again after each ALTER TABLE, and the suite makes ~150 stores. The template is used only
# while opening a store writes nothing but the schema: a row anywhere else (an identity, a key)
# would be shared by every copy, so then each test migrates its own store as before. The planner
# statistics every store writes when it opens (sqlite_stat1, store/migrate.c) are the same in
# every store, not data: counting them had turned the template off since they came.
sqlite_template() {
  local dir=$1 db counts
  db="$dir/tender.db"
  "$TENDER_BIN" merchant list --data "$dir" >/dev/null 2>&1 || return 0
  sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null 2>&1 || return 0
  counts=$(sqlite3 "$db" "SELECT group_concat('SELECT ''' || name || ''' AS t, count(*) AS n FROM \"' || name || '\"', ' UNION ALL ') FROM sqlite_master WHERE type = 'table' AND name NOT IN ('schema_migrations', 'sqlite_sequence', 'sqlite_stat1')")
  if [ -n "$(sqlite3 "$db" "SELECT t FROM ($counts) WHERE n > 0")" ]; then
    echo "sqlite_template: opening a store writes rows: every test migrates its own" >&2
    return 0
  fi
  export TENDER_SQLITE_TEMPLATE="$db"
}
