-- Shared by the wrk scripts of bench/run.py: thread numbering, member ids, and a JSON summary line.
local M = {}

function M.read_ids(path)
  local ids = {}
  for line in io.lines(path) do
    local n = tonumber(line)
    if n then ids[#ids + 1] = n end
  end
  assert(#ids > 0, "no member ids in " .. path)
  return ids
end

-- One line "BENCHJSON {...}" that bench/run.py parses; latencies in microseconds.
function M.report(summary, latency)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "status_errors": %d, "timeouts": %d, "lat_mean_us": %.1f, "lat_max_us": %d, ' ..
    '"lat_p50_us": %d, "lat_p90_us": %d, "lat_p99_us": %d, "lat_p999_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end

return M
