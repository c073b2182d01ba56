-- Tokenizations: POST /v1/payment_methods with a test card number.
-- BENCH_RATE (see bench/rate.lua) turns this into a constant-rate load; unset, full load.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "rate.lua")
function init(args)
  key = os.getenv("TENDER_BENCH_KEY")
end
function request()
  local headers = {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  return wrk.format("POST", "/v1/payment_methods", headers,
    "type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2034&card[cvc]=123")
end
