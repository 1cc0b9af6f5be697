-- GET one path with the integration token. Args (after --): PATH TOKEN
package.path = debug.getinfo(1, "S").source:match("@?(.*/)") .. "?.lua;" .. package.path
local common = require("common")

function init(args)
  req = wrk.format("GET", args[1], {["Authorization"] = "Bearer " .. args[2]})
end

function request()
  return req
end

function done(summary, latency, requests)
  common.report(summary, latency)
end
