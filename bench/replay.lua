-- Idempotent replays: the same keyed request again and again (answered from the saved result).
function init(args)
  key = os.getenv("TENDER_BENCH_KEY")
  idem = os.getenv("TENDER_BENCH_IDEM")
end
function request()
  local headers = {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Idempotency-Key"] = idem,
  }
  return wrk.format("POST", "/v1/payment_intents", headers,
    "amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true")
end
