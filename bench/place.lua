-- wrk script: placements (POST /api/v1/place, one request per call), each reserving a site,
-- a path and bandwidth for 2 s, durable before its reply.
local from = {"beijing", "shanghai", "guangzhou", "shenzhen", "chengdu", "wuhan", "xian", "hangzhou"}
local services = {"ar-cloud-gaming", "video-analytics", "llm-inference"}
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"requests":[{"id":"w%d","from":"%s","service":"%s","duration":"2 s","min_bandwidth":"1 Mbps"}]}', n, from[n % #from + 1], services[n % #services + 1])
  return wrk.format("POST", "/api/v1/place", {["Authorization"] = "Bearer " .. os.getenv("CPN_TOKEN"), ["Content-Type"] = "application/json"}, body)
end
