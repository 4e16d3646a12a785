// A resource server asks tokend whether a token is good now (RFC 7662), with a short cache.
//
//   TOKEND_URL=http://127.0.0.1:8080 TOKEND_API_KEY=tkd_... node introspect.mjs TOKEN [TOKEN ...]
//
// The caller needs the "introspect" permission (permissions = ["introspect"] for a resource
// server). Prints "active <sub> <client_id>" or "inactive" per token, a line each.
//
// The cache is the trade-off every resource server makes: an answer is reused for at most
// TOKEND_INTROSPECTION_CACHE seconds (default 10), so a revocation reaches this server within
// that long, and tokend sees one request per token per interval rather than one per API call.
// An active answer is never kept past the token's own exp.
import { signatureHeaders } from "./mint.mjs";

const base = (process.env.TOKEND_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const cacheSeconds = Number(process.env.TOKEND_INTROSPECTION_CACHE ?? 10);
const cache = new Map(); // token -> { answer, until (ms) }

export async function introspect(token) {
  const now = Date.now();
  const cached = cache.get(token);
  if (cached && cached.until > now) return cached.answer;
  const url = `${base}/v1/tokens/introspect`;
  const body = JSON.stringify({ token });
  const auth = process.env.TOKEND_API_KEY
    ? { Authorization: `Bearer ${process.env.TOKEND_API_KEY}` }
    : signatureHeaders("POST", url, body, process.env.TOKEND_KEY_ID, process.env.TOKEND_HMAC_SECRET);
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json", ...auth }, body });
  const answer = await response.json();
  if (response.status !== 200) throw new Error(`tokend answered ${response.status}: ${answer.error?.message}`);
  let until = now + cacheSeconds * 1000;
  if (answer.active) until = Math.min(until, answer.exp * 1000);
  cache.set(token, { answer, until });
  return answer;
}

for (const token of process.argv.slice(2)) {
  const answer = await introspect(token);
  console.log(answer.active ? `active ${answer.sub} ${answer.client_id ?? "-"}` : "inactive");
}
