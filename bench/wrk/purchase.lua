-- POST one purchase per request, a unique order id each time (run tag, wrk thread, counter).
-- Args (after --): PATH TOKEN IDS_FILE RUN_TAG OCCURRED_AT
--   PATH: /api/v1/purchases/ or /bench/minimal/ (same body and headers for both)
--   IDS_FILE: member ids, one a line; each request picks one at random (a file with one id = hot member)
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local counter = 0
function init(args)
  path, token, ids, tag, occurred = args[1], args[2], common.read_ids(args[3]), args[4], args[5]
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
  math.randomseed(os.time() * 100 + tid)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"member": %d, "order_id": "%s-%d-%d", "amount": "%d.%02d", "occurred_at": "%s"}',
    ids[math.random(#ids)], tag, tid, counter, math.random(1, 199), math.random(0, 99), occurred)
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  common.report(summary, latency)
end
