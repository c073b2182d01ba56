-- Reads: GET one PaymentIntent.
function init(args)
  key = os.getenv("TENDER_BENCH_KEY")
  path = "/v1/payment_intents/" .. os.getenv("TENDER_BENCH_PI")
end
function request()
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. key })
end
