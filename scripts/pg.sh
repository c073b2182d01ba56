#!/usr/bin/env bash
# Throwaway PostgreSQL clusters for tests.
#
#   scripts/pg.sh start DIR [N]   initdb N (default 2) clusters under DIR, start them on free
#                                 127.0.0.1 ports, create database "tender" in each, and print
#                                 one postgres:// URL per line (also written to DIR/urls)
#   scripts/pg.sh stop DIR        stop every cluster under DIR and delete DIR
#
# Clusters run with fsync on and the C collation (Tender's ordering of ids must match SQLite's
# byte order), and keep little WAL (the suite's secret scans read every segment written while
# their test file ran: PostgreSQL's default keeps up to 1 GB). PostgreSQL refuses to run as
# root: as root the servers run as the "postgres" user (created by Debian's package). If the
# binaries are missing and we are root, Debian's postgresql package is installed first.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start DIR [N] | stop DIR" >&2
  exit 2
fi

find_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

BIN=$(find_bindir || true)
if [[ -z "$BIN" && "$cmd" == start ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "pg.sh: installing postgresql" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    BIN=$(find_bindir)
  else
    echo "pg.sh: PostgreSQL binaries (initdb, pg_ctl) not found" >&2
    exit 1
  fi
fi

# as_pg CMD…: runs a command as the user that owns the clusters
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  else
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  fi
}

start() {
  local n=${1:-2}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$dir"
    chmod 0700 "$dir"
  fi
  : >"$dir/urls.tmp"
  local i
  for ((i = 0; i < n; i++)); do
    local c="$dir/pg$i"
    as_pg "$BIN/initdb" -D "$c" -U postgres --auth=trust --encoding=UTF8 --locale=C \
      --no-instructions >"$dir/initdb$i.log" 2>&1 || { cat "$dir/initdb$i.log" >&2; exit 1; }
    # TLS: a throwaway self-signed certificate per cluster (for 127.0.0.1), so clients can ask for
    # sslmode=verify-full with sslrootcert=DIR/pgN/server.crt; plain connections still work
    as_pg openssl req -new -x509 -days 7 -nodes -subj "/CN=127.0.0.1" \
      -addext "subjectAltName=IP:127.0.0.1" -keyout "$c/server.key" -out "$c/server.crt" \
      >"$dir/openssl$i.log" 2>&1 || { cat "$dir/openssl$i.log" >&2; exit 1; }
    chmod 0600 "$c/server.key"
    local port started=0 attempt
    # a port found free can be taken before the server binds it: try a few
    for attempt in 1 2 3 4 5; do
      port=$(free_port)
      if as_pg "$BIN/pg_ctl" -D "$c" -l "$c/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$c -c fsync=on -c max_connections=500 -c shared_buffers=32MB -c max_wal_size=96MB -c min_wal_size=32MB -c ssl=on" \
        start >/dev/null 2>&1; then
        started=1
        break
      fi
    done
    if [[ $started -ne 1 ]]; then
      echo "pg.sh: cluster $i did not start:" >&2
      cat "$c/server.log" >&2 || true
      exit 1
    fi
    as_pg "$BIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
      -c "CREATE DATABASE tender TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/tender" >>"$dir/urls.tmp"
  done
  mv "$dir/urls.tmp" "$dir/urls"
  cat "$dir/urls"
}

stop() {
  [[ -d "$dir" ]] || return 0
  local c
  for c in "$dir"/pg*; do
    [[ -f "$c/postmaster.pid" ]] || continue
    as_pg "$BIN/pg_ctl" -D "$c" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      as_pg "$BIN/pg_ctl" -D "$c" -m immediate -w stop >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
}

case "$cmd" in
  start) start "${3:-2}" ;;
  stop) stop ;;
  *)
    echo "usage: $0 start DIR [N] | stop DIR" >&2
    exit 2
    ;;
esac
