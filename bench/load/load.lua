-- wrk script of bench/load/run.sh. The scenario comes from the environment:
--   JOT_SCENARIO=verify      GET /verify with one valid bearer token (JOT_ACCESS)
--   JOT_SCENARIO=introspect  POST /introspect token=JOT_ACCESS, HTTP Basic client auth (JOT_BASIC)
--   JOT_SCENARIO=refresh     POST /token grant_type=refresh_token: refresh chains. Each wrk
--                            thread takes its share of the tokens in JOT_REFRESH_FILE (one per
--                            line); every answer carries the successor, which goes back into the
--                            thread's pool, so each token is used exactly once.
-- JOT_WRK_THREADS must equal wrk's -t. done() prints one RESULT line that run.sh reads.
local scenario = os.getenv("JOT_SCENARIO") or "verify"
local access = os.getenv("JOT_ACCESS") or ""
local basic = os.getenv("JOT_BASIC") or ""
local token_file = os.getenv("JOT_REFRESH_FILE")
local nthreads = tonumber(os.getenv("JOT_WRK_THREADS") or "1")

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- per-thread state
statuses = {}
lost = 0       -- refresh answers without a successor (the chain ends there)
starved = 0    -- refresh requests sent with no token left in the pool
local pool = {}
local head, tail = 1, 0
local fixed_request

local FORM = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function init(args)
  if scenario == "verify" then
    fixed_request = wrk.format("GET", "/verify", { ["Authorization"] = "Bearer " .. access })
  elseif scenario == "introspect" then
    fixed_request = wrk.format("POST", "/introspect", {
      ["Authorization"] = basic,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }, "token=" .. access)
  elseif scenario == "refresh" then
    local i = 0
    for line in io.lines(token_file) do
      if line ~= "" then
        if i % nthreads == id then
          tail = tail + 1
          pool[tail] = line
        end
        i = i + 1
      end
    end
  else
    error("unknown JOT_SCENARIO " .. scenario)
  end
end

function request()
  if fixed_request then
    return fixed_request
  end
  local tok
  if head <= tail then
    tok = pool[head]
    pool[head] = nil
    head = head + 1
  else
    starved = starved + 1
    tok = "pool-empty"
  end
  return wrk.format("POST", "/token", FORM, "grant_type=refresh_token&refresh_token=" .. tok)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if scenario == "refresh" then
    local nxt = status == 200 and string.match(body, '"refresh_token":"([A-Za-z0-9_-]+)"')
    if nxt then
      tail = tail + 1
      pool[tail] = nxt
    else
      lost = lost + 1
    end
  end
end

function done(summary, latency, requests)
  local counts = {}
  local total_lost, total_starved = 0, 0
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then
      for code, n in pairs(s) do
        counts[code] = (counts[code] or 0) + n
      end
    end
    total_lost = total_lost + (t:get("lost") or 0)
    total_starved = total_starved + (t:get("starved") or 0)
  end
  local non2xx, s429, parts = 0, 0, {}
  for code, n in pairs(counts) do
    if code < 200 or code > 299 then
      non2xx = non2xx + n
    end
    if code == 429 then
      s429 = n
    end
    table.insert(parts, code .. ":" .. n)
  end
  table.sort(parts)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT scenario=%s requests=%d seconds=%.1f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "non2xx=%d s429=%d statuses=%s socket_errors=%d/%d/%d/%d timeouts=%d chain_lost=%d pool_starved=%d\n",
    scenario, summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, non2xx, s429, table.concat(parts, ","),
    e.connect, e.read, e.write, e.status, e.timeout, total_lost, total_starved))
end
