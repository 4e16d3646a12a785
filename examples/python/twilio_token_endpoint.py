#!/usr/bin/env python3
"""The backend endpoint a Twilio Sync, Voice or TaskRouter client calls for its token: on start,
and again on the SDK's `tokenAboutToExpire`. It mints through tokend (which holds the Twilio API
key) and answers {"token": ..., "expires_at": ...}.

    pip install requests requests-http-signature
    TOKEND_URL=http://127.0.0.1:8080 TOKEND_API_KEY=tkd_... \\
      python3 twilio_token_endpoint.py 3000 '{"data_sync": {"service_sid": "IS..."}}'
    curl -s 'http://127.0.0.1:3000/twilio-token?identity=alice'

The first argument is the port, the second the grants every token carries (Twilio's names and
fields: data_sync, chat, video, voice, task_router, player); TOKEND_TTL the lifetime in seconds
(default 3600; tokend clamps it to 30 min ... 24 h). Authentication to tokend as in
mint_requests_http_signature.py: TOKEND_API_KEY, or TOKEND_KEY_ID and TOKEND_HMAC_SECRET.

The identity comes from the query string here so that the recipe runs alone. In your backend it
comes from the signed-in user's session, never from the client: whoever chooses the identity
chooses whose data the token opens.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import requests

from mint_requests_http_signature import mint

GRANTS = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {"data_sync": {}}
TTL = int(os.environ.get("TOKEND_TTL", "3600"))


class TokenEndpoint(BaseHTTPRequestHandler):
    session = requests.Session()

    def do_GET(self):
        url = urlparse(self.path)
        identity = parse_qs(url.query).get("identity", [""])[0]
        if url.path != "/twilio-token" or not identity:
            return self.answer(404 if url.path != "/twilio-token" else 400, {"error": "GET /twilio-token?identity=..."})
        try:
            minted = mint(self.session, identity, GRANTS, TTL)
        except RuntimeError as error:  # tokend refused (a 4xx names the field), or stayed unavailable
            return self.answer(502, {"error": str(error)})
        # What the client needs: the token, and when to have a new one (it refreshes before).
        self.answer(200, {"token": minted["token"], "expires_at": minted["expires_at"]})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")  # a token is not for shared caches
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *arguments):
        pass  # tokens must not end up in access logs


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 3000), TokenEndpoint)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
