-- wrk script for tests/bench/soak: a mix of licd's client traffic. Settings
-- come from the environment (delay() must exist, or not, when wrk loads it):
--   SOAK_KEY       the customer key the requests carry as their bearer
--   SOAK_ROWS      clients 1..ROWS with a licence and a live lease (load.sql)
--   SOAK_TOKENS    a file of "TOKEN MACHINE_ID" lines (renewals)
--   SOAK_TAG       keeps this run's new client ids apart from other runs'
--   SOAK_DELAY_MS  above 0: each connection waits that long on average
-- The mix, per 100 requests: 25 reissues (get_key of a known client), 10
-- grants (get_key of a new client), 10 checkouts of a floating seat, 10
-- releases of seats this thread checked out, 30 heartbeats of live leases,
-- 10 token renewals, 5 JWKS fetches. A 200, 201 or 204 is a success; any
-- other answer is an error. Ends by printing
-- "mix: N ok, N errors (last error: S), N leases held".
local key = os.getenv("SOAK_KEY")
local rows = tonumber(os.getenv("SOAK_ROWS") or "1")
local tag = os.getenv("SOAK_TAG") or "soak"
local pace = tonumber(os.getenv("SOAK_DELAY_MS") or "0")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local n, tokens, held = 0, {}, {}
ok, errors, last_error, leases_held = 0, 0, 0, 0

local function post(target, fmt, ...)
  return wrk.format("POST", target, nil, string.format(fmt, ...))
end

function init()
  math.randomseed(os.time() * 16 + tid)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
  for line in io.lines(os.getenv("SOAK_TOKENS")) do
    tokens[#tokens + 1] = {line:match("^(%S+) (%S+)$")}
  end
end

function request()
  local r = math.random(100)
  n = n + 1
  if r <= 25 then
    return post("/v1/get_key", '{"product":"bench","version":"1.0","client_id":"%d"}',
                math.random(rows))
  elseif r <= 35 then
    return post("/v1/get_key", '{"product":"bench","version":"1.0","client_id":"%s-%d-%d"}',
                tag, tid, n)
  elseif r <= 45 then
    return post("/v1/leases", '{"product":"bench","client_id":"%s-%d-%d"}', tag, tid, n)
  elseif r <= 55 and #held > 0 then
    local id = table.remove(held, 1)
    return wrk.format("DELETE", "/v1/leases/" .. id)
  elseif r <= 85 then
    local k = math.random(rows)
    return post(string.format("/v1/leases/00000000-0000-4000-8000-%012d/heartbeat", k),
                '{"product":"bench","client_id":"%d"}', k)
  elseif r <= 95 then
    local t = tokens[math.random(#tokens)]
    return post("/v1/tokens/renew", '{"token":"%s","machine_id":"%s"}', t[1], t[2])
  else
    return wrk.format("GET", "/.well-known/jwks.json")
  end
end

-- Waits drawn evenly from 0 to twice the mean, so connections do not arrive
-- in step.
if pace > 0 then
  function delay() return math.floor(math.random() * 2 * pace + 0.5) end
end

function response(status, headers, body)
  if status == 200 or status == 201 or status == 204 then
    ok = ok + 1
    -- a checkout's answer: its seat is given back by a later request
    if status == 201 and body then
      local id = body:match('"lease_id":"([0-9a-f-]+)"')
      if id then held[#held + 1] = id end
    end
  else
    errors, last_error = errors + 1, status
  end
  leases_held = #held
end

function done()
  local o, e, last, h = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o, e, h = o + t:get("ok"), e + t:get("errors"), h + t:get("leases_held")
    if t:get("last_error") ~= 0 then last = t:get("last_error") end
  end
  io.write(string.format("mix: %d ok, %d errors (last error: %d), %d leases held\n", o, e, last, h))
end
