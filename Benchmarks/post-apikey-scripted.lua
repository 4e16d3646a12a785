-- wrk: the API-key request of post-apikey.lua, but handed out by a request() function, as
-- post-signed.lua hands out its signed requests. wrk sends a static request without calling Lua;
-- with request() it runs Lua per request, which on two shared cores costs the client enough to
-- cap the rate. The HMAC path is compared with this, so both carry the same client cost and the
-- ratio is the server's.
local prepared

function init(args)
  prepared = wrk.format("POST", "/v1/tokens", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer test-key-0001",
  }, '{"identity":"alice","grants":{"data_sync":{"service_sid":"IS123"}},"ttl":3600}')
end

function request()
  return prepared
end
