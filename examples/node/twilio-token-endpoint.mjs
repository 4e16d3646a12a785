// The backend endpoint a Twilio Sync, Voice or TaskRouter client calls for its token: on start,
// and again on the SDK's `tokenAboutToExpire`. It mints through tokend (which holds the Twilio
// API key) and answers {"token": ..., "expires_at": ...}. Node 20+, nothing else.
//
//   TOKEND_URL=http://127.0.0.1:8080 TOKEND_API_KEY=tkd_... \
//     node twilio-token-endpoint.mjs 3000 '{"data_sync": {"service_sid": "IS..."}}'
//   curl -s 'http://127.0.0.1:3000/twilio-token?identity=alice'
//
// The first argument is the port, the second the grants every token carries (Twilio's names and
// fields); TOKEND_TTL the lifetime in seconds (default 3600). Authentication to tokend as in
// mint.mjs. The identity comes from the query string so that the recipe runs alone; in your
// backend it comes from the signed-in user's session, never from the client.
import { createServer } from "node:http";
import { mint } from "./mint.mjs";

const grants = JSON.parse(process.argv[3] ?? '{"data_sync": {}}');
const ttl = Number(process.env.TOKEND_TTL ?? 3600);

function answer(response, status, body) {
  // no-store: a token is not for shared caches.
  response.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  response.end(JSON.stringify(body));
}

const server = createServer(async (request, response) => {
  const url = new URL(request.url, "http://localhost");
  const identity = url.searchParams.get("identity");
  if (request.method !== "GET" || url.pathname !== "/twilio-token") return answer(response, 404, { error: "GET /twilio-token?identity=..." });
  if (!identity) return answer(response, 400, { error: "GET /twilio-token?identity=..." });
  try {
    const minted = await mint(identity, grants, ttl);
    answer(response, 200, { token: minted.token, expires_at: minted.expires_at });
  } catch (error) {
    answer(response, 502, { error: String(error.message) }); // tokend refused (a 4xx names the field), or stayed unavailable
  }
});
server.listen(Number(process.argv[2] ?? 3000), "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
