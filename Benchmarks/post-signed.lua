-- wrk: POST /v1/tokens with RFC 9421 signatures made in advance by sign_requests.py, one per
-- request (tokend accepts each signature once). The file path comes after `--`.
local requests = {}
local next_index = 0

function init(args)
  for line in io.lines(args[1]) do
    local body, digest, input, signature = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
    requests[#requests + 1] = wrk.format("POST", "/v1/tokens", {
      ["Content-Type"] = "application/json",
      ["Content-Digest"] = digest,
      ["Signature-Input"] = input,
      ["Signature"] = signature,
    }, body)
  end
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end
