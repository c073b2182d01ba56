#!/usr/bin/env bash
# `make bench-soak`: does Tender's memory stay flat under a long full load? (issue 10: "resident
# size stays flat (±10 %) over a 10-minute run at peak").
#
# Starts a fresh Tender as scripts/bench.sh does, runs the durable confirm load at full rate
# (wrk -t2 -c64, bench/confirm.lua) for SOAK_SECONDS (600), and every SOAK_INTERVAL (30) seconds
# samples /proc/PID/status (VmRSS, RssAnon, RssFile) and the data directory's size. The verdict
# compares the first sample at or after the warm-up (SOAK_WARMUP, 60 s) with the last one,
# separately for VmRSS and RssAnon. Why both: the store is mmap'd up to 1 GiB
# (PRAGMA mmap_size in src/store/sqlite_db.c), so file-backed RSS (RssFile) grows with the
# database until that cap without being a leak; RssAnon is the heap and the stacks, where a
# leak would show. RssFile is reported, not judged.
#
# At the end Tender is stopped (SIGTERM) and `tender verify` checks the store's invariants.
# A dated "Memory soak" section is appended to bench/results.md (SOAK_RESULTS to write
# elsewhere; SOAK_KEEP=1 keeps the temporary directory with the data and Tender's log).
# Exit status: 0 verified and the heap (RssAnon) flat; 1 the server died or verify failed; 3 the
# heap not flat. VmRSS's verdict is reported but does not set the status: past warm-up it is
# mostly the mmap'd store (see above), which grows with the data until the 1 GiB cap.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${SOAK_SECONDS:-600}
EVERY=${SOAK_INTERVAL:-30}
WARMUP=${SOAK_WARMUP:-60}
CONNS=${BENCH_CONNS:-64}
RESULTS=${SOAK_RESULTS:-bench/results.md}
TOLERANCE_PCT=10

for v in SOAK_SECONDS:DUR SOAK_INTERVAL:EVERY BENCH_CONNS:CONNS; do
  var=${v#*:}
  [[ ${!var} =~ ^[1-9][0-9]{0,5}$ ]] || { echo "bench-soak: ${v%%:*}=${!var} is not a positive integer" >&2; exit 2; }
done
[[ $WARMUP =~ ^[0-9]{1,6}$ ]] || { echo "bench-soak: SOAK_WARMUP=$WARMUP is not an integer" >&2; exit 2; }
[ "$WARMUP" -lt "$DUR" ] || { echo "bench-soak: the warm-up ($WARMUP s) must be shorter than the run ($DUR s)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench-soak: needs wrk (make bench installs it)" >&2; exit 2; }
make --no-print-directory tender

work=$(mktemp -d /tmp/tender-soak-XXXXXX)
tpid=
wpid=
spid=
# stop a process we started: SIGTERM, a bounded wait (Tender drains for up to 30 s and waits for
# suspended requests up to 120 s more), then SIGKILL; says how it ended in $stopped (not run in a
# subshell: only this shell can wait for its children)
stopped=
stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; stopped="gone"; return; }
  for ((i = 0; i < 1800; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    stopped="killed (SIGTERM ignored for 180 s)"
    return
  fi
  local rc=0
  wait "$pid" 2>/dev/null || rc=$?
  stopped="exited $rc after SIGTERM in $((i / 10)).$((i % 10)) s"
}
# shellcheck disable=SC2317  # (called by the EXIT trap)
cleanup() {
  [ -n "$spid" ] && { kill "$spid" 2>/dev/null || true; }
  [ -n "$wpid" ] && stop_pid "$wpid"
  [ -n "$tpid" ] && stop_pid "$tpid"
  if [ -n "${SOAK_KEEP:-}" ]; then echo "bench-soak: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
build/tender keygen "$work/master.key" >/dev/null
merchant=$(build/tender merchant create --data "$work/data" --name soak)
TENDER_BENCH_KEY=$(sed -n 's/.*"secret_key":"\([^"]*\)".*/\1/p' <<<"$merchant")
export TENDER_BENCH_KEY
[ -n "$TENDER_BENCH_KEY" ] || { echo "bench-soak: merchant create gave no key: $merchant" >&2; exit 1; }
build/tender serve --listen "127.0.0.1:$port" --data "$work/data" --master-key-file "$work/master.key" \
  --rate-limit 0 --log-level warn > "$work/tender.out" 2> "$work/tender.log" &
tpid=$!
for _ in $(seq 100); do grep -q listening "$work/tender.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/tender.out" || { echo "bench-soak: Tender did not start:" >&2; cat "$work/tender.log" >&2; exit 1; }

# one sample: "t VmRSS RssAnon RssFile data_dir" (KiB)
sample() {
  local t=$1 mem data
  mem=$(awk '$1 == "VmRSS:" { v = $2 } $1 == "RssAnon:" { a = $2 } $1 == "RssFile:" { f = $2 }
             END { print v, a, f }' "/proc/$tpid/status")
  data=$(du -sk "$work/data" | awk '{print $1}')
  echo "$t $mem $data" | tee -a "$work/samples"
}

echo "bench-soak: confirms at full load (-t2 -c$CONNS) for $DUR s, a sample every $EVERY s (t VmRSS RssAnon RssFile data_dir, KiB)"
wrk --latency -t2 -c"$CONNS" -d"${DUR}s" -s bench/confirm.lua "http://127.0.0.1:$port" > "$work/wrk.out" 2>&1 &
wpid=$!
start=$(date +%s)
died=0
for ((t = 0; ; t += EVERY)); do
  [ "$t" -gt "$DUR" ] && t=$DUR
  wait_s=$((start + t - $(date +%s)))
  # sleep in the background: a signal interrupts `wait` at once (a foreground sleep would delay
  # the trap, and so the cleanup, until it ends)
  if [ "$wait_s" -gt 0 ]; then
    sleep "$wait_s" &
    spid=$!
    wait "$spid" || true
    spid=
  fi
  if ! kill -0 "$tpid" 2>/dev/null; then died=1; echo "bench-soak: Tender exited during the run" >&2; break; fi
  sample "$t"
  [ "$t" -ge "$DUR" ] && break
done
wrc=0
wait "$wpid" || wrc=$?
wpid=
[ "$wrc" -eq 0 ] || echo "bench-soak: wrk exited $wrc" >&2

# wrk's totals: "N requests in ...", "Non-2xx or 3xx responses: M", latency percentiles
requests=$(awk '/requests in/ {print $1}' "$work/wrk.out")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.out")
rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.out")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.out")
served=$((${requests:-0} - ${non2xx:-0}))
grep 'confirm answered' "$work/wrk.out" | head -2 >&2 || true

if [ "$died" -eq 0 ]; then stop_pid "$tpid"; else wait "$tpid" 2>/dev/null || true; stopped="died"; fi
tpid=
# --log-level warn: anything here is worth a look (a 500 logs its cause)
log_lines=$(grep -c . "$work/tender.log" || true)
if [ "$log_lines" -gt 0 ]; then
  echo "bench-soak: Tender logged $log_lines lines at warn or above; the first 5:"
  head -5 "$work/tender.log" | cut -c1-400
fi
v0=$(date +%s)
verify_out=$(build/tender verify --data "$work/data" --master-key-file "$work/master.key" 2>&1) && vrc=0 || vrc=$?
vsecs=$(( $(date +%s) - v0 ))
if [ "$vrc" -eq 0 ]; then verify="passed in ${vsecs} s"; else verify="FAILED (exit $vrc): $(head -5 <<<"$verify_out" | tr '\n' ' ')"; fi
pis="n/a"
if command -v sqlite3 >/dev/null; then
  pis=$(sqlite3 "$work/data/tender.db" 'SELECT COUNT(*) FROM payment_intents' 2>/dev/null || echo n/a)
fi

# verdict: first sample at or after the warm-up against the last, and the widest swing between
verdict() { # column (2 VmRSS, 3 RssAnon) → "base → last KiB (+x.x %, min … max), flat|NOT flat"
  awk -v col="$1" -v w="$WARMUP" -v tol="$TOLERANCE_PCT" '
    $1 >= w { v = $col; if (!n++) { base = v; bt = $1; lo = v; hi = v }
              if (v < lo) lo = v; if (v > hi) hi = v; last = v; lt = $1 }
    END {
      if (n < 2 || base <= 0) { print "n/a (fewer than two samples after the warm-up)"; exit }
      d = 100 * (last - base) / base
      printf "%d → %d KiB from t=%d s to t=%d s (%+.1f %%; range %d–%d KiB), %s\n", base, last, bt, lt, d,
        lo, hi, (d <= tol && d >= -tol) ? "flat" : "NOT flat"
    }' "$work/samples"
}
v_vm=$(verdict 2)
v_anon=$(verdict 3)

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
data_end=$(awk 'END { printf "%.1f", $5 / 1024 }' "$work/samples")
report="$work/report.md"
{
  echo "## Memory soak $(date -u +%F\ %H:%M) UTC"
  echo
  echo "\`make bench-soak\` (scripts/bench-soak.sh): durable confirms at full load (wrk -t2 -c$CONNS,"
  echo "bench/confirm.lua) for $DUR s on $(nproc) cores, ${cpu:-unknown}; a sample every $EVERY s."
  echo "Confirms served: $served (${rps:-?}/s, p50 / p99 ${p50:-?} / ${p99:-?}; non-2xx: ${non2xx:-0}; PaymentIntents"
  echo "stored: $pis). Data directory at the end: $data_end MiB. Tender: $stopped; it logged $log_lines"
  echo "lines at warn or above."
  echo
  echo "| t (s) | VmRSS KiB | RssAnon KiB | RssFile KiB | data dir KiB |"
  echo "|---|---|---|---|---|"
  awk '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$work/samples"
  echo
  echo "Verdict (±$TOLERANCE_PCT % between the first sample after the $WARMUP s warm-up and the last):"
  echo "- VmRSS: $v_vm"
  echo "- RssAnon (heap): $v_anon"
  echo "- RssFile is not judged: it includes the store mmap'd up to 1 GiB and grows with the database"
  echo "  (so VmRSS does too until that cap); the heap's verdict is the one the exit status follows."
  echo
  echo "\`tender verify\` after the run: $verify."
  [ "$died" -eq 0 ] || echo "**Tender exited during the run** (its log's last lines: $(tail -3 "$work/tender.log" | tr '\n' ' '))."
} > "$report"
echo
cat "$report"
{ echo; cat "$report"; } >> "$RESULTS"
echo
echo "bench-soak: appended to $RESULTS"

if [ "$died" -ne 0 ] || [ "$vrc" -ne 0 ]; then exit 1; fi
case "$v_anon" in *"NOT flat"*) exit 3 ;; esac
exit 0
