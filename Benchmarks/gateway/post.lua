-- wrk: POST a small chat completion with the key in GATEHOUSE_KEY (empty: no Authorization header).
wrk.method = "POST"
wrk.body = '{"model":"fixture-small","max_tokens":8,"messages":[{"role":"user","content":"hello there"}]}'
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("GATEHOUSE_KEY")
if key ~= nil and key ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. key
end
