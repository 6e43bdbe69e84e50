-- wrk script of bench/server/run.sh. It builds on bench/load/load.lua (loaded from
-- JOT_LOAD_LUA), which provides the scenarios verify, introspect and refresh and the RESULT
-- line; this file adds:
--   JOT_SCENARIO=nginx            GET / (nginx's `return 204`)
--   JOT_SCENARIO=verify_distinct  GET /verify, a different token on every request: each wrk
--                                 thread takes every JOT_WRK_THREADS-th line of
--                                 JOT_TOKEN_FILE and sends them in order (wrapping around)
--   JOT_SCENARIO=login            POST /token grant_type=password for user "bench" with
--                                 JOT_PASSWORD (URL-safe characters only)
dofile(os.getenv("JOT_LOAD_LUA"))

local scenario = os.getenv("JOT_SCENARIO") or ""
local load_init, load_request = init, request
local own_request
local tokens, n_tokens, next_token = {}, 0, 0

function init(args)
  if scenario == "nginx" then
    own_request = wrk.format("GET", "/")
  elseif scenario == "login" then
    own_request = wrk.format("POST", "/token", { ["Content-Type"] = "application/x-www-form-urlencoded" },
      "grant_type=password&username=bench&password=" .. (os.getenv("JOT_PASSWORD") or ""))
  elseif scenario == "verify_distinct" then
    local nthreads = tonumber(os.getenv("JOT_WRK_THREADS") or "1")
    local i = 0
    for line in io.lines(os.getenv("JOT_TOKEN_FILE")) do
      if line ~= "" then
        if i % nthreads == id then
          n_tokens = n_tokens + 1
          tokens[n_tokens] = "Bearer " .. line
        end
        i = i + 1
      end
    end
  else
    return load_init(args)
  end
end

function request()
  if own_request then
    return own_request
  end
  if n_tokens > 0 then
    next_token = next_token % n_tokens + 1
    return wrk.format("GET", "/verify", { ["Authorization"] = tokens[next_token] })
  end
  return load_request()
end
