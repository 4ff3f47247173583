-- wrk script: each request takes the next path from the list the load test writes, in turn,
-- and non-2xx answers are counted so that the load test can fail on any error.
local paths = {}
for line in io.lines(os.getenv("LOADTEST_PATHS")) do
  paths[#paths + 1] = line
end
local counter = 0
local errors = 0

-- As a browser asks: it takes compressed answers.
local headers = {["Accept-Encoding"] = "gzip, deflate, br"}

request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], headers)
end

response = function(status, headers, body)
  if status >= 400 then
    errors = errors + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("JSON {\"requests\": %d, \"seconds\": %.2f, \"rps\": %.1f, " ..
    "\"p50_ms\": %.1f, \"p90_ms\": %.1f, \"p99_ms\": %.1f, \"max_ms\": %.1f, " ..
    "\"socket_errors\": %d, \"status_errors\": %d}\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
