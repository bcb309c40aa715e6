-- wrk script for the isr benchmark (wrk's Lua API: https://github.com/wg/wrk/blob/master/SCRIPTING).
--
-- Prints one line `WRK_JSON {...}` at the end that bench/src/wrk.ts parses: request and error counts
-- and latency percentiles in microseconds. It defines no `request` function, so wrk keeps sending
-- its one precomputed request at full speed.

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"statusErrors":%d,"timeouts":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
