-- wrk script: POST the URL's query string with "Accept: application/json" (and the
-- body and token of BENCH_BODY and BENCH_TOKEN) and print one machine-readable line
-- (BENCH_JSON) with the figures bench.py reads.
wrk.method = "POST"
wrk.headers["Accept"] = "application/json"
-- A body (MLServer's V2 inference request) and a bearer token, when bench.py gives them.
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non2xx = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total = 0
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
      .. '"mean_us": %.1f, "max_us": %d, "non2xx": %d, "connect": %d, '
      .. '"read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), latency.mean, latency.max, non2xx_total,
    e.connect, e.read, e.write, e.timeout))
end
