-- Query mix for bench/load_wrk.sh: each request takes the next path of the list (per wrk thread),
-- so words, phrases, OR/NOT, prefixes, facet filters, date ranges, sorts, deep pages and browsing all count.
local endpoint = os.getenv("ENDPOINT") or "/api/search"
local mix = {
  "q=oil",
  "q=coffee+prices",
  "q=grain+OR+wheat",
  "q=opec&sort=newest",
  "topics=earn",
  "q=interest+rates&places=usa&from=1987-03&to=1987-04",
  "q=gold*",
  "q=bank+-japan",
  "q=%22trade+deficit%22",
  "",
  "q=acquisition&page=3",
  "q=dolar",
  "q=profit&topics=earn&places=uk",
  "q=shares&sort=oldest&per_page=50",
  "q=title:strike",
  "q=people:volcker",
  "q=japan+tariffs&orgs=gatt",
  "q=crude&from=1987-04-01",
}
local paths = {}
for i, query in ipairs(mix) do
  paths[i] = endpoint .. (query ~= "" and ("?" .. query) or "")
end

local counter = 0
function setup(thread)
  thread:set("offset", math.random(#paths))
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter + (offset or 0)) % #paths + 1])
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write("\n| endpoint | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors (non-2xx/3xx, socket) |\n")
  io.write("|---|---:|---:|---:|---:|---:|---:|---:|\n")
  io.write(string.format("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %d (status %d, timeout %d) |\n",
    endpoint, summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, errors, summary.errors.status, summary.errors.timeout))
end
