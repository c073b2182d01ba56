-- Durable confirms: a new PaymentIntent confirmed with pm_card_visa, a unique Idempotency-Key each.
-- BENCH_RATE (see bench/rate.lua) turns this into a constant-rate load; unset, full load.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "rate.lua")
local counter = 0
local next_id = 1
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end
function init(args)
  key = os.getenv("TENDER_BENCH_KEY")
  -- every wrk thread has its own Lua state: its id (from setup) keeps the keys apart
  prefix = string.format("bench-%d-%d-", os.time(), tid)
end
function request()
  counter = counter + 1
  local headers = {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Idempotency-Key"] = prefix .. counter,
  }
  return wrk.format("POST", "/v1/payment_intents", headers,
    "amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true")
end
function response(status, headers, body)
  if status ~= 200 then
    errors = (errors or 0) + 1
    -- the first failure of each thread is shown: a benchmark must not hide a failing payment
    if errors == 1 then io.stderr:write(string.format("confirm answered %d: %s\n", status, body)) end
  end
end
