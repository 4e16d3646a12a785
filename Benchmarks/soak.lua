-- wrk: mixed traffic for the soak test, round robin: a valid mint, a wrong API key, a replayed
-- signed request (accepted once, then 401 replay), an oversized body (413, connection closed),
-- invalid JSON, a grant the caller may not use, an unknown path and GET /healthz. The signed request comes
-- from the file given after `--`.
local requests = {}
local next_index = 0

function init(args)
  local json = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer test-key-0001" }
  local wrong = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer tkd_wrong-key" }
  local body = '{"identity":"alice","grants":{"data_sync":{"service_sid":"IS123"}},"ttl":3600}'
  requests[#requests + 1] = wrk.format("POST", "/v1/tokens", json, body)
  requests[#requests + 1] = wrk.format("POST", "/v1/tokens", wrong, body)
  for line in io.lines(args[1]) do
    local signed_body, digest, input, signature = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
    requests[#requests + 1] = wrk.format("POST", "/v1/tokens", {
      ["Content-Type"] = "application/json", ["Content-Digest"] = digest,
      ["Signature-Input"] = input, ["Signature"] = signature,
    }, signed_body)
    break
  end
  requests[#requests + 1] = wrk.format("POST", "/v1/tokens", json, string.rep("x", 70000))
  requests[#requests + 1] = wrk.format("POST", "/v1/tokens", json, '{"identity":')
  requests[#requests + 1] = wrk.format("POST", "/v1/tokens", json, '{"identity":"a","grants":{"video":{}}}')
  requests[#requests + 1] = wrk.format("GET", "/no-such-path")
  -- (No HEAD: wrk's parser would wait for a body that a HEAD answer rightly does not have.)
  requests[#requests + 1] = wrk.format("GET", "/healthz")
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end
