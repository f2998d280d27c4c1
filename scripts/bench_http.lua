-- wrk script for scripts/bench-http.sh: the API's check and ingest routes under load.
--
--   wrk -t 2 -c 64 -d 10s --latency -s scripts/bench_http.lua http://127.0.0.1:PORT -- MODE KEY CUSTOMERS SKUS NONCE
--
-- MODE check:  POST /v1/customers/{random customer}/check with two items: the SKU every
--              warm customer ordered (so each check finds a duplicate and answers an alert)
--              and a random one of SKUS.
-- MODE ingest: POST /v1/cart-events, a valid `add` for a random customer with an event_id
--              unique in the run (NONCE, the thread, a counter), so that the worker keeps it.
-- KEY is the API key (Bearer); customers are cust-000000 .. cust-(CUSTOMERS-1), SKUs
-- SKU-00000 .. SKU-(SKUS-1) (the names scripts/bench-http.sh seeds). Requests are built per
-- request, so every one picks a new customer.
--
-- done() prints one machine-readable line for the shell script (latency in microseconds, from
-- wrk's own histogram; errors.status counts answers with a status of 400 or above):
--   BENCH requests=… duration_us=… p50_us=… p90_us=… p99_us=… max_us=… connect_errors=… read_errors=… write_errors=… status_errors=… timeouts=…

local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

local mode, key, customers, skus, nonce
local headers

function init(args)
  mode = args[1] or "check"
  key = args[2] or error("bench_http.lua: pass the API key after --")
  customers = tonumber(args[3] or "100000")
  skus = tonumber(args[4] or "2000")
  nonce = args[5] or tostring(os.time())
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
  headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
  if mode ~= "check" and mode ~= "ingest" then error("bench_http.lua: MODE must be check or ingest, not " .. mode) end
end

local function customer()
  return string.format("cust-%06d", math.random(0, customers - 1))
end

local function sku()
  return string.format("SKU-%05d", math.random(0, skus - 1))
end

function request()
  if mode == "check" then
    local body = '{"items":[{"sku":"MILK-1L","qty":1},{"sku":"' .. sku() .. '","qty":2}]}'
    return wrk.format("POST", "/v1/customers/" .. customer() .. "/check", headers, body)
  end
  counter = counter + 1
  local body = '{"type":"add","customer_id":"' .. customer() .. '","sku":"' .. sku() ..
    '","qty":1,"event_id":"wrk-' .. nonce .. '-' .. (thread_id or 0) .. '-' .. counter .. '"}'
  return wrk.format("POST", "/v1/cart-events", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "connect_errors=%d read_errors=%d write_errors=%d status_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
