-- wrk script for the soak test (bench/src/soak.ts): the Zipf-like mix of wrk-zipf.lua, plus a count of
-- answers by status class, so a 5xx is told apart from a 4xx (wrk's own `errors.status` counts every
-- status >= 400 together).
--
-- `wrk ... -s wrk-soak.lua <url> -- <paths-file>`. Prints wrk-report.lua's `WRK_JSON {...}` line, then
-- `WRK_STATUS {"1xx":n,"2xx":n,"3xx":n,"4xx":n,"5xx":n}`. Defining `response` makes wrk hand every
-- answer to Lua, which costs throughput: fine for a soak, not for the benchmark's figures.

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk-zipf.lua")

-- Per-thread counters (each wrk thread has its own Lua state; done() reads them with thread:get).
c1xx, c2xx, c3xx, c4xx, c5xx = 0, 0, 0, 0, 0

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function response(status, headers, body)
  if status >= 500 then c5xx = c5xx + 1
  elseif status >= 400 then c4xx = c4xx + 1
  elseif status >= 300 then c3xx = c3xx + 1
  elseif status >= 200 then c2xx = c2xx + 1
  else c1xx = c1xx + 1 end
end

local report = done

function done(summary, latency, requests)
  report(summary, latency, requests)
  local t = { 0, 0, 0, 0, 0 }
  for _, thread in ipairs(threads) do
    t[1] = t[1] + thread:get("c1xx")
    t[2] = t[2] + thread:get("c2xx")
    t[3] = t[3] + thread:get("c3xx")
    t[4] = t[4] + thread:get("c4xx")
    t[5] = t[5] + thread:get("c5xx")
  end
  io.write(string.format('WRK_STATUS {"1xx":%d,"2xx":%d,"3xx":%d,"4xx":%d,"5xx":%d}\n', t[1], t[2], t[3], t[4], t[5]))
end
