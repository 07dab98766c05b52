-- wrk script: POST the body in $AIQ_BODY_FILE (one NDJSON event) on every
-- request, keep-alive; prints one machine-readable summary line.
--   AIQ_BODY_FILE=body_1.ndjson wrk -t2 -c16 -d8s --latency \
--     -s post.lua http://127.0.0.1:PORT/api/v1/predictions
local f = assert(io.open(os.getenv("AIQ_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-ndjson"

done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "WRK requests=%d errors=%d seconds=%.3f req_per_s=%.1f p50_us=%.1f " ..
    "p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    secs, summary.requests / secs, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max))
end
