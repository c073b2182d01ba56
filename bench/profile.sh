#!/usr/bin/env bash
# Profiles durable confirms on this machine: starts a fresh Tender, runs the confirm load, and
# prints the writer's group statistics (jobs per group, ms per group and in COMMIT, statements
# and WAL frames per confirm) plus the syscalls per confirm (strace -c -f over a short window).
# perf mode samples the whole machine (cpu-clock, every thread, kernel included) during the load
# and prints where the two cores go: by thread name, by binary, and the hottest symbols.
# Usage: bench/profile.sh [seconds] [connections] [strace|callgrind|perf|none]
# WORKLOAD=read or replay profiles GET /v1/payment_intents/{id} or an idempotent replay instead
# of confirms (one PaymentIntent is confirmed first, as `make bench` does); WORKLOAD=tokenize
# profiles POST /v1/payment_methods. LOG_LEVEL (default debug) is Tender's --log-level: the group
# statistics printed at the end need debug, but debug also logs every request, and in perf mode
# those log writes (ext4's write path on the HTTP threads) are part of the profile; LOG_LEVEL=warn
# profiles the request path as `make bench` runs it. PERF_OUT=FILE keeps perf's data.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
CONNS=${2:-64}
MODE=${3:-none}
BIN=${TENDER_BIN:-build/tender}
work=$(mktemp -d /tmp/tender-prof-XXXXXX)
tpid=
cleanup() { [ -n "$tpid" ] && kill -9 "$tpid" 2>/dev/null; wait 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" keygen "$work/master.key" >/dev/null
merchant=$("$BIN" merchant create --data "$work/data" --name prof)
export TENDER_BENCH_KEY=$(sed -n 's/.*"secret_key":"\([^"]*\)".*/\1/p' <<<"$merchant")
pre=()
if [ "$MODE" = callgrind ]; then
  pre=(valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" --separate-threads=no)
fi
"${pre[@]}" "$BIN" serve --listen "127.0.0.1:$port" --data "$work/data" --master-key-file "$work/master.key" \
  --rate-limit 0 --log-level "${LOG_LEVEL:-debug}" > "$work/out" 2> "$work/log" &
tpid=$!
for _ in $(seq 300); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
url="http://127.0.0.1:$port"
LUA=bench/${WORKLOAD:-confirm}.lua
[ -f "$LUA" ] || { echo "profile: no $LUA" >&2; exit 2; }
if [ "${WORKLOAD:-confirm}" != confirm ]; then
  pi=$(curl -s "$url/v1/payment_intents" -u "$TENDER_BENCH_KEY:" -H 'Idempotency-Key: prof-replay' \
    -d amount=2000 -d currency=usd -d payment_method=pm_card_visa -d confirm=true)
  export TENDER_BENCH_PI=$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' <<<"$pi")
  export TENDER_BENCH_IDEM=prof-replay
fi
if [ "$MODE" = strace ]; then
  wrk -t2 -c"$CONNS" -d"$((DUR + 4))s" -s "$LUA" "$url" > "$work/wrk" 2>&1 &
  wpid=$!
  sleep 2
  n0=$(sqlite3 "$work/data/tender.db" 'SELECT COUNT(*) FROM payment_intents' 2>/dev/null || echo 0)
  timeout -s INT "$DUR" strace -c -f -p "$tpid" -o "$work/strace" 2>/dev/null || true
  n1=$(sqlite3 "$work/data/tender.db" 'SELECT COUNT(*) FROM payment_intents' 2>/dev/null || echo 0)
  wait "$wpid" || true
  echo "confirms during strace: $((n1 - n0))"
  head -30 "$work/strace"
elif [ "$MODE" = perf ]; then
  wrk -t2 -c"$CONNS" -d"$((DUR + 3))s" -s "$LUA" "$url" > "$work/wrk" 2>&1 &
  wpid=$!
  sleep 2
  n0=$(sqlite3 "$work/data/tender.db" 'SELECT COUNT(*) FROM payment_intents' 2>/dev/null || echo 0)
  perf record -q -a -g -e cpu-clock -F 1999 -o "$work/perf.data" -- sleep "$DUR" 2>/dev/null
  n1=$(sqlite3 "$work/data/tender.db" 'SELECT COUNT(*) FROM payment_intents' 2>/dev/null || echo 0)
  wait "$wpid" || true
  echo "confirms during perf: $((n1 - n0)) in ${DUR}s"
  if [ -n "${PERF_OUT:-}" ]; then cp "$work/perf.data" "$PERF_OUT"; fi
  rep() { perf report -i "$work/perf.data" --no-children --stdio -g none "$@" 2>/dev/null | grep -v -e '^#' -e '^$' | head -"${N:-20}" || true; }
  rep --sort comm
  rep --sort comm,dso
  N=70 rep --sort comm,sym
else
  wrk -t2 -c"$CONNS" -d"${DUR}s" -s "$LUA" "$url" > "$work/wrk" 2>&1
fi
grep -E 'Requests/sec|Non-2xx|Latency' "$work/wrk" || true
grep 'store:' "$work/log" | tail -4 || true
ls -la "$work/data" | grep tender.db
if [ "$MODE" = callgrind ]; then
  kill -TERM "$tpid"; wait "$tpid" || true; tpid=
  n=$(sqlite3 "$work/data/tender.db" 'SELECT COUNT(*) FROM payment_intents')
  echo "confirms: $n"
  cp "$work/cg.out" "${CALLGRIND_OUT:-/tmp/callgrind.out}"
  callgrind_annotate "$work/cg.out" > "$work/cg.txt" 2>/dev/null || true
  sed -n 20,60p "$work/cg.txt"
fi
