-- POST /api/v1/purchases/batch/ with SIZE purchases per call, each for a random member, unique order ids.
-- Args (after --): TOKEN IDS_FILE RUN_TAG OCCURRED_AT SIZE
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local counter = 0
function init(args)
  token, ids, tag, occurred, size = args[1], common.read_ids(args[2]), args[3], args[4], tonumber(args[5])
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
  math.randomseed(os.time() * 100 + tid)
end

function request()
  local items = {}
  for i = 1, size do
    counter = counter + 1
    items[i] = string.format(
      '{"member": %d, "order_id": "%s-%d-%d", "amount": "%d.%02d", "occurred_at": "%s"}',
      ids[math.random(#ids)], tag, tid, counter, math.random(1, 199), math.random(0, 99), occurred)
  end
  return wrk.format("POST", "/api/v1/purchases/batch/", headers,
                    '{"purchases": [' .. table.concat(items, ", ") .. ']}')
end

function done(summary, latency, requests)
  common.report(summary, latency)
end
