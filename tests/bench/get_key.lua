-- wrk script for POST /v1/get_key. Arguments after "--": KEY PRODUCT VERSION MODE TAG
--   MODE new:  a new client_id per request (TAG-thread-counter): each one takes a seat (201)
--   MODE same: the fixed client_id TAG, which already holds a licence (200, nothing written)
-- Prints one line "statuses: 201=N 200=N other=N" at the end.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local key, product, version, mode, tag
local n, fixed = 0, nil
created, ok, other = 0, 0, 0

local function request_for(client_id)
  local body = string.format('{"product":"%s","version":"%s","client_id":"%s"}',
                             product, version, client_id)
  return wrk.format("POST", nil, nil, body)
end

function init(args)
  key, product, version, mode, tag = args[1], args[2], args[3], args[4], args[5]
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.headers["Content-Type"] = "application/json"
  if mode == "same" then fixed = request_for(tag) end
end

function request()
  if fixed then return fixed end
  n = n + 1
  return request_for(tag .. "-" .. tid .. "-" .. n)
end

function response(status)
  if status == 201 then created = created + 1
  elseif status == 200 then ok = ok + 1
  else other = other + 1 end
end

function done()
  local c, o, x = 0, 0, 0
  for _, t in ipairs(threads) do
    c, o, x = c + t:get("created"), o + t:get("ok"), x + t:get("other")
  end
  io.write(string.format("statuses: 201=%d 200=%d other=%d\n", c, o, x))
end
