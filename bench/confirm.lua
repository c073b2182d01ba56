-- Durable confirms: a new PaymentIntent confirmed with pm_card_visa, a unique Idempotency-Key each.
-- BENCH_RATE (see bench/rate.lua) turns this into a constant-rate load; unset, full load.
--
-- wrk shares the machine's two cores with Tender, so the script is kept cheap (wrk's CPU per
-- confirm 33-36 → 20-23 µs): the request is formatted once per wrk thread, around the key, and
-- each request only joins the two halves with its counter; and there is no response() callback,
-- which made wrk hand every answer's headers and body to Lua. wrk still counts the answers that
-- are not 2xx, and scripts/bench.sh marks the run's row with them: no failing payment is hidden.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "rate.lua")
local counter = 0
local next_id = 1
local head, tail
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end
function init(args)
  -- every wrk thread has its own Lua state: its id (from setup) keeps the keys apart
  local prefix = string.format("bench-%d-%d-", os.time(), tid)
  local mark = "\1KEY\1"
  local req = wrk.format("POST", "/v1/payment_intents", {
    ["Authorization"] = "Bearer " .. os.getenv("TENDER_BENCH_KEY"),
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Idempotency-Key"] = mark,
  }, "amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true")
  local at = req:find(mark, 1, true)
  head = req:sub(1, at - 1) .. prefix
  tail = req:sub(at + #mark)
end
function request()
  counter = counter + 1
  return head .. counter .. tail
end
