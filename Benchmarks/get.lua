-- wrk: GET /healthz, the framework floor through the same middleware.
wrk.method = "GET"
