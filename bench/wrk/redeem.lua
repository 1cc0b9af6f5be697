-- POST /api/v1/redemptions/: one redemption of REWARD per request for a random member, each with a unique
-- Idempotency-Key (run tag, wrk thread, counter), so every request is a new redemption.
-- Args (after --): TOKEN IDS_FILE RUN_TAG REWARD
--   IDS_FILE: member ids, one a line (all funded so that nobody runs out of points)
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")

local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local counter = 0
function init(args)
  token, ids, tag, reward = args[1], common.read_ids(args[2]), args[3], tonumber(args[4])
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}
  math.randomseed(os.time() * 100 + tid)
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = string.format("%s-%d-%d", tag, tid, counter)
  local body = string.format('{"member": %d, "reward": %d}', ids[math.random(#ids)], reward)
  return wrk.format("POST", "/api/v1/redemptions/", headers, body)
end

function done(summary, latency, requests)
  common.report(summary, latency)
end
