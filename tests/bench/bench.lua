-- wrk script for tests/bench/run: the requests of one licd path. Settings
-- come from the environment, because delay() must exist (or not) when wrk
-- loads the script, before init() sees any argument:
--   BENCH_PATH      grant | reissue | checkout | heartbeat | login | renew | jwks
--   BENCH_KEY       the customer key the requests carry as their bearer
--   BENCH_ROWS      reissue, heartbeat, login: the clients (leases, users) 1..ROWS
--                   that the run made; each request names the next of them
--   BENCH_TAG       grant, checkout: keeps this run's new client ids apart
--   BENCH_TOKENS    renew: a file of "TOKEN MACHINE_ID" lines
--   BENCH_DELAY_MS  above 0: each connection waits that long on average
--                   before each request (the run at about half of peak)
-- Ends by printing "status: N expected, N other (last other: S)".
local path = os.getenv("BENCH_PATH")
local key = os.getenv("BENCH_KEY")
local rows = tonumber(os.getenv("BENCH_ROWS") or "1")
local tag = os.getenv("BENCH_TAG") or "run"
local pace = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local expected = ({grant = 201, reissue = 200, checkout = 201, heartbeat = 200,
                   login = 201, renew = 201, jwks = 200})[path]
assert(expected, "BENCH_PATH must name a path")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local n, tokens = 0, {}
hits, others, last_other = 0, 0, 0

-- The n-th row this thread names: rows in a scattered order (a prime step
-- that divides no power of ten), the two threads half the rows apart.
local function row(i)
  return ((i + (tid - 1) * math.floor(rows / 2)) * 999983) % rows + 1
end

local function post(target, fmt, ...)
  return wrk.format("POST", target, nil, string.format(fmt, ...))
end

local build = {
  grant = function(i)
    return post("/v1/get_key", '{"product":"bench","version":"1.0","client_id":"%s-%d-%d"}',
                tag, tid, i)
  end,
  reissue = function(i)
    return post("/v1/get_key", '{"product":"bench","version":"1.0","client_id":"%d"}', row(i))
  end,
  checkout = function(i)
    return post("/v1/leases", '{"product":"bench","client_id":"%s-%d-%d"}', tag, tid, i)
  end,
  heartbeat = function(i)
    local k = row(i)
    return post(string.format("/v1/leases/00000000-0000-4000-8000-%012d/heartbeat", k),
                '{"product":"bench","client_id":"%d"}', k)
  end,
  login = function(i)
    local k = row(i)
    return post("/v1/tokens", '{"username":"%d","password":"bench-password","machine_id":"%d",'
                .. '"products":["bench"]}', k, k)
  end,
  renew = function(i)
    local t = tokens[row(i)]
    return post("/v1/tokens/renew", '{"token":"%s","machine_id":"%s"}', t[1], t[2])
  end,
  jwks = function()
    return wrk.format("GET", "/.well-known/jwks.json")
  end,
}

function init()
  math.randomseed(os.time() * 16 + tid)
  wrk.headers["Content-Type"] = "application/json"
  if key and key ~= "" then wrk.headers["Authorization"] = "Bearer " .. key end
  if path == "renew" then
    for line in io.lines(os.getenv("BENCH_TOKENS")) do
      tokens[#tokens + 1] = {line:match("^(%S+) (%S+)$")}
    end
    rows = #tokens
  end
end

function request()
  n = n + 1
  return build[path](n)
end

-- Waits drawn evenly from 0 to twice the mean (whole milliseconds, as wrk
-- takes them): connections that all waited the same would stay in step and
-- arrive in bursts of CONNECTIONS at a time.
if pace > 0 then
  function delay() return math.floor(math.random() * 2 * pace + 0.5) end
end

function response(status)
  if status == expected then hits = hits + 1
  else others, last_other = others + 1, status end
end

function done()
  local h, o, last = 0, 0, 0
  for _, t in ipairs(threads) do
    h, o = h + t:get("hits"), o + t:get("others")
    if t:get("last_other") ~= 0 then last = t:get("last_other") end
  end
  io.write(string.format("status: %d expected, %d other (last other: %d)\n", h, o, last))
end
