-- wrk script for the isr benchmark: a Zipf-like mix over many paths.
--
-- `wrk ... -s wrk-zipf.lua <url> -- <paths-file>`: each request picks one path of the file (one per
-- line, most popular first) with weight 1/k for the k-th path, the mix of a content site's traffic.
-- The report line comes from wrk-report.lua.

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "wrk-report.lua")

local paths = nil
local cdf = nil

function init(args)
  assert(args[1], "wrk-zipf.lua needs a paths file: wrk ... -- <paths-file>")
  paths = {}
  for line in io.lines(args[1]) do
    if line ~= "" then paths[#paths + 1] = line end
  end
  cdf = {}
  local total = 0
  for k = 1, #paths do
    total = total + 1 / k
    cdf[k] = total
  end
  for k = 1, #paths do cdf[k] = cdf[k] / total end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003)
end

local function pick()
  local r = math.random()
  local lo, hi = 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < r then lo = mid + 1 else hi = mid end
  end
  return paths[lo]
end

function request()
  return wrk.format("GET", pick())
end
