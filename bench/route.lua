-- wrk script: joint decisions (POST /api/v1/route), each durable in the decision log before
-- its reply. Ingress routers and services rotate over the national scenario.
local from = {"beijing", "shanghai", "guangzhou", "shenzhen", "chengdu", "wuhan", "xian", "hangzhou"}
local services = {"ar-cloud-gaming", "video-analytics", "llm-inference"}
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"from":"%s","service":"%s"}', from[n % #from + 1], services[n % #services + 1])
  return wrk.format("POST", "/api/v1/route", {["Authorization"] = "Bearer " .. os.getenv("CPN_TOKEN"), ["Content-Type"] = "application/json"}, body)
end
