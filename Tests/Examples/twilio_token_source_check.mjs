// The client-side snippet against a running token endpoint (the first argument, a URL): a kept
// token is reused while it has more than `margin` left, fetched again when not, and the SDK's
// tokenAboutToExpire gets a new one through updateToken (a stand-in client: no Twilio here).
import { EventEmitter } from "node:events";
import { TwilioTokenSource } from "../../examples/node/twilio-token-source.mjs";

const url = process.argv[2];
let calls = 0;
const counting = (...args) => { calls++; return fetch(...args); };
const failures = [];

const kept = new TwilioTokenSource(url, { fetch: counting });
const first = await kept.get();
const second = await kept.get();
if (first !== second || calls !== 1) failures.push(`kept: ${calls} fetches for two gets`);

calls = 0;
const stale = new TwilioTokenSource(url, { fetch: counting, margin: 7200 }); // more than the TTL: never fresh enough
await stale.get();
await stale.get();
if (calls !== 2) failures.push(`stale: ${calls} fetches for two gets, not 2`);

// tokenAboutToExpire: the kept token is dropped and a new one goes to updateToken.
calls = 0;
const client = new EventEmitter();
let updated = null;
client.updateToken = async (token) => { updated = token; };
kept.refreshOn(client);
client.emit("tokenAboutToExpire");
for (let waited = 0; updated === null && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
if (calls !== 1 || typeof updated !== "string" || updated.split(".").length !== 3) failures.push(`tokenAboutToExpire: ${calls} fetches, updateToken got ${updated}`);

console.log(failures.length ? failures.join("; ") : "kept while fresh, fetched when not, refreshed on tokenAboutToExpire");
process.exit(failures.length ? 1 : 0);
