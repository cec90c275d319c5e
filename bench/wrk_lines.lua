-- wrk script: each request once, in order, from a file of lines
-- "method<TAB>path<TAB>authorization<TAB>body" (authorization and body may be empty), shared
-- by the thread's connections; stops after a per-thread limit (wrk -- <file> <limit>) and
-- prints its summary as one JSON line (bench/write_bench.py). The file holds a few lines
-- more than the limit: the connections still in flight when the limit is reached send one
-- each, and a write must never be sent twice.
local requests = {}
local index = 0
local limit = 1000
local count = 0

function init(args)
  limit = tonumber(args[2]) or limit
  for line in io.lines(args[1]) do
    local method, path, auth, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
    local headers = {}
    if auth ~= "" then
      headers["Authorization"] = auth
    end
    if body == "" then
      body = nil
    else
      headers["Content-Type"] = "application/json"
    end
    table.insert(requests, wrk.format(method, path, headers, body))
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  count = count + 1
  if count == limit then
    io.write("WRKDONE\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
