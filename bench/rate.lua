-- Constant-rate pacing for wrk (Debian's wrk 4.1 has no -R; wrk2 is not packaged).
--
-- Loaded with dofile() by bench/confirm.lua and bench/tokenize.lua. Without BENCH_RATE it does
-- nothing, so those scripts keep their full-load behaviour: wrk calls delay() only when the
-- script defines it.
--
-- With BENCH_RATE=<total requests/s> and BENCH_THREADS=<wrk's -t> it defines delay(), which wrk
-- calls before every request of a connection (the first one too) and which returns the
-- milliseconds to wait. delay() has no connection argument, so the pacing is per wrk thread: each
-- thread owns an evenly spaced schedule of send slots (BENCH_THREADS / BENCH_RATE seconds apart,
-- starting at a random phase so that the threads do not fire in lockstep), and every idle
-- connection of the thread takes the next free slot. The achieved rate is then the target rate
-- as long as some connection is idle when its slot comes; when all are busy (the server is
-- slower than the target), the schedule restarts at "now" instead of bursting to catch up, and
-- the achieved rate (which wrk reports) falls short of the target.
--
-- Caveat (coordinated omission): a slot is taken only when a connection is idle again, and wrk
-- measures latency from the moment the request is written, not from its slot. This is a
-- closed-loop approximation of a constant rate (wrk2 measures from the intended send time): a
-- server stall delays the requests that would have been sent during it instead of counting
-- them as slow, so the tail latencies it reports are optimistic under stalls.
--
-- wrk truncates delay()'s answer to whole milliseconds; slots are kept in fractional
-- milliseconds and the wait is rounded, so sub-millisecond spacing (e.g. 2,500 req/s per
-- thread) still averages to the target rate.
local rate = tonumber(os.getenv("BENCH_RATE") or "")
if rate == nil then
  return
end
local threads = tonumber(os.getenv("BENCH_THREADS") or "")
if rate <= 0 or threads == nil or threads < 1 then
  -- wrk only prints a failing script's error and runs on at full load: stop it here instead
  io.stderr:write("bench/rate.lua: BENCH_RATE needs a positive rate and BENCH_THREADS (wrk's -t)\n")
  os.exit(2)
end

local ok, ffi = pcall(require, "ffi")
if not ok then
  io.stderr:write("bench/rate.lua: needs LuaJIT's ffi for a millisecond clock\n")
  os.exit(2)
end
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_rate_timespec;
int clock_gettime(int clk_id, bench_rate_timespec *tp);
]])
local ts = ffi.new("bench_rate_timespec")
local CLOCK_MONOTONIC = 1
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local interval_ms = threads * 1000 / rate
local next_slot = nil

function delay()
  local now = now_ms()
  if next_slot == nil then
    -- each thread's Lua state is created at a different nanosecond: a different phase each
    math.randomseed(tonumber(ts.tv_nsec))
    next_slot = now + math.random() * interval_ms
  elseif next_slot < now then
    next_slot = now
  end
  local slot = next_slot
  next_slot = next_slot + interval_ms
  return math.floor(slot - now + 0.5)
end
