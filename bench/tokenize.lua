-- Tokenizations: POST /v1/payment_methods with a test card number.
-- BENCH_RATE (see bench/rate.lua) turns this into a constant-rate load; unset, full load.
-- The request never changes, so it is built once per wrk thread (no request() function: wrk then
-- sends a static request, as in the nginx run, and spends no Lua on each one).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "rate.lua")
function init(args)
  wrk.method = "POST"
  wrk.path = "/v1/payment_methods"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TENDER_BENCH_KEY")
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.body = "type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2034&card[cvc]=123"
end
