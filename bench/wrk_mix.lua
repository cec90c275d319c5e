-- wrk script: cycles through requests listed in a file, one per line
-- "path<TAB>authorization[<TAB>METHOD<TAB>json body][<TAB>Name: value...]" (authorization
-- may be empty; GET and no body unless a METHOD is given; further "Name: value" fields add
-- headers; one line for a single endpoint); stops after a per-thread limit
-- (wrk -- <file> <limit>) and prints its summary as one JSON line for bench/bench.py.
-- The thread's connections share one cursor, so each line is sent once per pass.
local requests = {}
local index = 0
local limit = 1000
local count = 0

function init(args)
  limit = tonumber(args[2]) or limit
  for line in io.lines(args[1]) do
    local fields = {}
    for field in (line .. "	"):gmatch("([^	]*)	") do
      table.insert(fields, field)
    end
    local headers = {}
    if fields[2] ~= nil and fields[2] ~= "" then
      headers["Authorization"] = fields[2]
    end
    local method, body, first_header = "GET", nil, 3
    if fields[3] ~= nil and fields[3]:match("^%u+$") then
      method, first_header = fields[3], 5
      if fields[4] ~= nil and fields[4] ~= "" then
        body = fields[4]
        headers["Content-Type"] = "application/json"
      end
    end
    -- Any further fields are "Name: value" headers (bench/peer_bench.py's X-Requested-With).
    for i = first_header, #fields do
      local name, value = fields[i]:match("^([^:]+):%s*(.*)$")
      if name ~= nil then
        headers[name] = value
      end
    end
    table.insert(requests, wrk.format(method, fields[1], headers, body))
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  count = count + 1
  if count == limit then
    -- wrk sleeps for its whole -d duration whatever the threads do, so tell the driver,
    -- which interrupts wrk (SIGINT) to print the summary at once.
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
