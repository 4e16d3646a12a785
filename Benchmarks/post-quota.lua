-- wrk: the API-key mint of post-apikey.lua by the caller "quota", which has a quota and an
-- identity quota, against a server that holds a block list.
wrk.method = "POST"
wrk.body = '{"identity":"alice","grants":{"data_sync":{"service_sid":"IS123"}},"ttl":3600}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer test-key-0002"
