-- wrk: POST a small chat completion with the key in GATEHOUSE_KEY (empty: no Authorization header), to the
-- model named by BENCH_MODEL (default fixture-small).
wrk.method = "POST"
local model = os.getenv("BENCH_MODEL")
if model == nil or model == "" then
    model = "fixture-small"
end
wrk.body = '{"model":"' .. model .. '","max_tokens":8,"messages":[{"role":"user","content":"hello there"}]}'
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("GATEHOUSE_KEY")
if key ~= nil and key ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. key
end
