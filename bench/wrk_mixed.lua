-- wrk script of the mixed workload (bench/mix_bench.py): one connection per wrk thread, so
-- each thread is one client whose requests and responses alternate, and each response is
-- timed against its own request, per route. The file (wrk -- <file> <limit>) has lines
--   R <route> <path> <authorization>       a read (authorization may be empty)
--   B <thread> <authorization> <slot id>   a booking for that thread (1-based): each one
--                                          a fresh patient on a fresh slot
--   C <route>,<route>,...                  the cycle every client runs, each pass in a new
--                                          random order; "book" takes the thread's next
--                                          booking and "cancel" cancels the booking it made
-- (tab-separated). Each thread times its first <limit> responses, then prints WRKDONE and
-- goes on untimed until the driver, once every thread is done, interrupts wrk, whose
-- done() prints every thread's samples (WRKROUTES).
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } mix_timespec;
int clock_gettime(int clk, mix_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("mix_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local reads = {}
local cycle = {}
local bookings = {}
local position = 0
local limit = 1000
local count = 0
local route = nil
local started = 0
local auth_of_booking = nil
local booking_id = nil
local samples = {}
local errors = {}

local function split(line)
  local out = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(out, field)
  end
  return out
end

function init(args)
  limit = tonumber(args[2]) or limit
  for line in io.lines(args[1]) do
    local f = split(line)
    if f[1] == "R" then
      local headers = {}
      if f[4] ~= nil and f[4] ~= "" then
        headers["Authorization"] = f[4]
      end
      reads[f[2]] = wrk.format("GET", f[3], headers)
    elseif f[1] == "B" and tonumber(f[2]) == id then
      table.insert(bookings, {auth = f[3], slot = f[4]})
    elseif f[1] == "C" then
      for name in f[2]:gmatch("[^,]+") do
        table.insert(cycle, name)
      end
    end
  end
  math.randomseed(id * 7919 + os.time())
end

-- Each pass runs the cycle in a new random order (a booking before its cancel), so what
-- one client asks is not in step with what the others ask at the same moment: a route's
-- latency is its own plus a queue like every other route's.
local order = {}

local function shuffle()
  order = {}
  for i, name in ipairs(cycle) do
    order[i] = name
  end
  for i = #order, 2, -1 do
    local j = math.random(i)
    order[i], order[j] = order[j], order[i]
  end
  local book, cancel
  for i, name in ipairs(order) do
    if name == "book" then book = i elseif name == "cancel" then cancel = i end
  end
  if book ~= nil and cancel ~= nil and cancel < book then
    order[book], order[cancel] = order[cancel], order[book]
  end
end

local function next_request()
  for _ = 1, #cycle do
    if position % #cycle == 0 then
      shuffle()
    end
    position = position % #cycle + 1
    local name = order[position]
    if name == "book" then
      local item = table.remove(bookings, 1)
      if item ~= nil then
        auth_of_booking = item.auth
        booking_id = nil
        local headers = {["Authorization"] = item.auth, ["Content-Type"] = "application/json"}
        return name, wrk.format("POST", "/api/v1/bookings", headers,
          '{"slotId": ' .. item.slot .. '}')
      end
    elseif name == "cancel" then
      if booking_id ~= nil then
        local headers = {["Authorization"] = auth_of_booking, ["Content-Type"] = "application/json"}
        local path = "/api/v1/bookings/" .. booking_id .. "/cancel"
        booking_id = nil
        return name, wrk.format("POST", path, headers, "{}")
      end
    else
      return name, reads[name]
    end
  end
end

function request()
  local req
  route, req = next_request()
  started = now_us()
  return req
end

function response(status, headers, body)
  local took = now_us() - started
  if route == "book" and status == 201 then
    booking_id = body:match('"data":%s*{%s*"id":%s*(%d+)')
  end
  count = count + 1
  if count > limit then
    return -- done: still a client (the others are measured under the same load), not timed
  end
  local list = samples[route]
  if list == nil then
    list = {}
    samples[route] = list
    errors[route] = 0
  end
  table.insert(list, string.format("%d", took))
  if status < 200 or status >= 300 then
    errors[route] = errors[route] + 1
    if errors[route] <= 3 then -- what went wrong, for the driver's log
      io.write("WRKERR " .. route .. " " .. status .. " " .. body:sub(1, 300):gsub("\n", " ") .. "\n")
    end
  end
  if count == limit then
    local parts = {}
    for name, values in pairs(samples) do
      table.insert(parts, name .. ":" .. errors[name] .. ":" .. table.concat(values, ","))
    end
    result = table.concat(parts, ";")
    -- wrk sleeps for its whole -d duration, so tell the driver, which interrupts wrk
    -- (SIGINT) once every client is done. A thread stopped on its own would leave a
    -- connection open with no request on it, and a sync worker waiting on it.
    io.write("WRKDONE\n")
    io.flush()
  end
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write("WRKROUTES " .. (thread:get("result") or "") .. "\n")
  end
end
