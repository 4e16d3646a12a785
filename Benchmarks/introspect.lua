-- wrk: POST /v1/tokens/introspect for one token (the first argument), as a resource server asks.
function init(args)
  wrk.method = "POST"
  wrk.body = '{"token":"' .. args[1] .. '"}'
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer test-key-0001"
end
