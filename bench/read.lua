-- Reads: GET one PaymentIntent. The request never changes, so it is built once per wrk thread
-- (no request() function: wrk then sends a static request, as in the nginx run) and the Lua
-- interpreter stays out of the load generator's per-request work, which shares the two cores.
function init(args)
  wrk.method = "GET"
  wrk.path = "/v1/payment_intents/" .. os.getenv("TENDER_BENCH_PI")
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TENDER_BENCH_KEY")
end
