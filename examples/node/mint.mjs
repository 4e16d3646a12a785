// Mint a tokend token from a Node.js (20+) backend with the standard library only:
// node:crypto for HMAC-SHA256 and SHA-256, the global fetch for HTTP.
//
//   TOKEND_URL=http://127.0.0.1:8080 TOKEND_API_KEY=tkd_... node mint.mjs alice [bob ...]
//   TOKEND_URL=... TOKEND_KEY_ID=my-backend TOKEND_HMAC_SECRET=... node mint.mjs alice
//
// With TOKEND_API_KEY it sends the API key; with TOKEND_KEY_ID and TOKEND_HMAC_SECRET it signs
// every request (RFC 9421, hmac-sha256). Prints one token per identity, a line each.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { pathToFileURL } from "node:url";

const base = (process.env.TOKEND_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");

// RFC 9421 signature headers over @method, @target-uri and content-digest. `created` and a
// random `nonce` make every signature unique: tokend accepts a signature (and a nonce) once,
// so a second identical request, or a retry, must be signed again.
export function signatureHeaders(method, url, body, keyId, secret) {
  const digest = `sha-256=:${createHash("sha256").update(body).digest("base64")}:`;
  const created = Math.floor(Date.now() / 1000);
  const nonce = randomBytes(16).toString("base64url");
  const params = `("@method" "@target-uri" "content-digest");created=${created};keyid="${keyId}";alg="hmac-sha256";nonce="${nonce}"`;
  const base = [
    `"@method": ${method}`,
    `"@target-uri": ${url}`, // exactly the URL fetch sends: scheme, host[:port], path
    `"content-digest": ${digest}`,
    `"@signature-params": ${params}`,
  ].join("\n");
  const signature = createHmac("sha256", secret).update(base).digest("base64");
  return { "Content-Digest": digest, "Signature-Input": `sig1=${params}`, Signature: `sig1=:${signature}:` };
}

function authenticationHeaders(url, body) {
  if (process.env.TOKEND_API_KEY) return { Authorization: `Bearer ${process.env.TOKEND_API_KEY}` };
  return signatureHeaders("POST", url, body, process.env.TOKEND_KEY_ID, process.env.TOKEND_HMAC_SECRET);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// POST /v1/tokens, retrying 429 (after Retry-After), 503 and network errors; each attempt is
// signed anew.
export async function mint(identity, grants = {}, ttl = 3600, attempts = 4) {
  const url = `${base}/v1/tokens`;
  const body = JSON.stringify({ identity, ttl, grants });
  for (let attempt = 1; ; attempt++) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...authenticationHeaders(url, body) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleep(500 * attempt);
      continue;
    }
    if ((response.status === 429 || response.status === 503) && attempt < attempts) {
      await sleep(1000 * Number(response.headers.get("Retry-After") ?? attempt));
      continue;
    }
    const answer = await response.json();
    if (response.status !== 200) throw new Error(`tokend answered ${response.status}: ${answer.error?.message}`);
    return answer;
  }
}

// Run as a program (not imported, as introspect.mjs imports signatureHeaders).
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const identities = process.argv.slice(2);
  for (const identity of identities.length ? identities : ["alice"]) {
    const answer = await mint(identity, { data_sync: {} });
    for (const warning of answer.warnings) console.error(`warning: ${warning}`);
    console.log(answer.token);
  }
}
