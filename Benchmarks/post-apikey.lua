-- wrk: POST /v1/tokens with an API key (the same request as the peers' bench/post.lua).
wrk.method = "POST"
wrk.body = '{"identity":"alice","grants":{"data_sync":{"service_sid":"IS123"}},"ttl":3600}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer test-key-0001"
