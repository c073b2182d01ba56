-- Idempotent replays: the same keyed request again and again (answered from the saved result).
-- Built once per wrk thread, like bench/read.lua: the request never changes.
function init(args)
  wrk.method = "POST"
  wrk.path = "/v1/payment_intents"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TENDER_BENCH_KEY")
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Idempotency-Key"] = os.getenv("TENDER_BENCH_IDEM")
  wrk.body = "amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true"
end
