// The client side of the token endpoint, for a browser or Node app using a Twilio SDK: fetch a
// token, keep it for less than its lifetime, and hand the SDK a new one on its
// `tokenAboutToExpire` event. Twilio's advice: a local TTL shorter than the token's.
//
//   import { TwilioTokenSource } from "./twilio-token-source.mjs";
//   const tokens = new TwilioTokenSource("/twilio-token?identity=alice");
//   const client = new SyncClient(await tokens.get());         // or Device, Worker, ...
//   tokens.refreshOn(client);                                   // tokenAboutToExpire -> updateToken
export class TwilioTokenSource {
  // `margin`: seconds before `expires_at` at which a kept token counts as expired (default 300:
  // Twilio's SDKs warn about three minutes before expiry, and the clocks may differ).
  constructor(url, { margin = 300, fetch: fetchFunction = globalThis.fetch } = {}) {
    this.url = url;
    this.margin = margin;
    this.fetch = fetchFunction;
    this.kept = null; // { token, expiresAt (ms) }
  }

  // A token with more than `margin` seconds left: the kept one, or a new one.
  async get() {
    if (this.kept && this.kept.expiresAt - Date.now() > this.margin * 1000) return this.kept.token;
    const response = await this.fetch(this.url, { cache: "no-store" });
    if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
    const { token, expires_at: expiresAt } = await response.json();
    this.kept = { token, expiresAt: Date.parse(expiresAt) };
    return token;
  }

  // The SDK says the token is about to expire: a new one, now (the kept one is too old by then).
  refreshOn(client) {
    client.on("tokenAboutToExpire", async () => {
      this.kept = null;
      await client.updateToken(await this.get());
    });
  }
}
