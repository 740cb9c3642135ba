-- wrk script for bench/web/run.py.
--
-- GUANXI_WRK_PATHS (optional): a file of request paths, one a line; each connection's requests
-- rotate over them (the customer page over many ids). Without it, wrk requests the URL given.
-- Every response other than 200 is counted; done() prints one line
-- "GUANXI_RESULT {json}" with the counts and the latency percentiles in microseconds.

local paths = {}
local paths_file = os.getenv("GUANXI_WRK_PATHS")
if paths_file and paths_file ~= "" then
  for line in io.lines(paths_file) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
end

local threads = {}

function setup(thread)
  thread:set("offset", #threads)
  threads[#threads + 1] = thread
end

non200 = 0
local counter = 0

function init(args)
  -- Threads start at different places in the list.
  counter = (offset or 0) * 7919
end

if #paths > 0 then
  function request()
    counter = counter + 1
    return wrk.format(nil, paths[counter % #paths + 1])
  end
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non200") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'GUANXI_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "non200": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"mean_us": %.1f, "p50_us": %d, "p90_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max))
end
