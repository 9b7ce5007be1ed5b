-- wrk script: POST the JSON body in $BODY_FILE (default ./body.json) and, when
-- done, print one machine-readable line: WRK_JSON {...}
-- Latencies are in microseconds. err_status counts non-2xx/3xx responses.
-- Every request carries its own order id (the body's "4815162342", both places,
-- replaced by a 10-digit number unique per $ORDER_SALT, thread and request), so a
-- system that drops duplicate orders still sees one new order per request. The
-- body keeps its size. ORDER_SALT: 0-99, different for every wrk run against one
-- database.
local path = os.getenv("BODY_FILE") or "body.json"
local f = assert(io.open(path, "rb"))
local body = f:read("*a")
f:close()

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local salt = tonumber(os.getenv("ORDER_SALT") or "0") % 100
local threads = 0
local template = body:gsub("4815162342", "%%s")

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local counter = 0
function request()
  counter = counter + 1
  local order = string.format("%02d%02d%06d", salt, tid % 100, counter % 1000000)
  return wrk.format(nil, nil, nil, template:format(order, order))
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,' ..
    '"err_write":%d,"err_status":%d,"err_timeout":%d,"lat_mean_us":%.1f,"lat_p50_us":%d,' ..
    '"lat_p90_us":%d,"lat_p99_us":%d,"lat_max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
