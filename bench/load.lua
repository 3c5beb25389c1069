-- The one wrk script every case uses, driven by the environment the runner sets:
--   BENCH_METHOD, BENCH_AUTH (an Authorization header), BENCH_COOKIE (a Cookie header), BENCH_BODY (form-encoded),
--   BENCH_LINES: a file with one value per line, used one per request, in order (wrapping around):
--     BENCH_LINE_AS=body   -> body = BENCH_BODY .. line (e.g. a fresh refresh token each request)
--     BENCH_LINE_AS=bearer -> Authorization: Bearer line (e.g. tokens of many users)
--     BENCH_LINE_AS=dpop   -> DPoP: line (a fresh pre-signed DPoP proof each request; beside BENCH_AUTH's DPoP token at a resource)
--   BENCH_DELAY_MS: pause before each request on a connection (a light probe rather than a flood).
-- done() prints one JSON line: requests, seconds, non-2xx/3xx and socket errors, p50/p99 in ms.
local env = os.getenv
wrk.method = env("BENCH_METHOD") or "GET"
local body = env("BENCH_BODY")
if body then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
if env("BENCH_AUTH") then wrk.headers["Authorization"] = env("BENCH_AUTH") end
if env("BENCH_COOKIE") then wrk.headers["Cookie"] = env("BENCH_COOKIE") end

local linesFile, lineAs = env("BENCH_LINES"), env("BENCH_LINE_AS")
if linesFile then
  local lines, n = {}, 0
  for line in io.lines(linesFile) do n = n + 1; lines[n] = line end
  local i = 0
  request = function ()
    i = i % n + 1
    if lineAs == "bearer" then
      wrk.headers["Authorization"] = "Bearer " .. lines[i]
      return wrk.format()
    end
    if lineAs == "dpop" then
      wrk.headers["DPoP"] = lines[i]
      return wrk.format()
    end
    return wrk.format(nil, nil, nil, (body or "") .. lines[i])
  end
end

local pause = tonumber(env("BENCH_DELAY_MS") or "")
if pause then delay = function () return pause end end

done = function (summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"seconds":%.3f,"rps":%.1f,"p50":%.3f,"p99":%.3f,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.status + e.timeout))
end
